//! A fake service on 127.0.0.1 for misbehaviour the testbed does not offer.

/// An axum app served on an ephemeral loopback port from a thread of its
/// own; it stops (and the thread is joined) when this is dropped.
pub struct Served {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Serve `app` until the returned [`Served`] is dropped.
pub fn serve(app: axum::Router) -> Served {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    Served {
        url,
        stop: Some(stop),
        thread: Some(thread),
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serve every connection on a fresh 127.0.0.1 port with `answer` (raw
/// HTTP/1.1, for answers axum will not send: endless or dripping bodies),
/// one thread per connection, for at most a minute. Returns the base URL.
pub fn serve_raw(answer: impl Fn(std::net::TcpStream) + Clone + Send + 'static) -> String {
    use std::time::{Duration, Instant};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let answer = answer.clone();
                    std::thread::spawn(move || answer(stream));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    url
}

/// Read the request head (and whatever of the body came with it).
pub fn read_request(stream: &mut std::net::TcpStream) {
    use std::io::Read;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 65536];
    let _ = stream.read(&mut buf);
}

/// An answer for [`serve_raw`]: `status` with a chunked body of JSON-looking
/// filler (`[   ...]` per KiB), `Some(total)` bytes as fast as the client
/// reads, or `None` for an endless slow drip (1 KiB every 10 ms), until the
/// client hangs up or a minute passes.
pub fn chunked(status: u16, total: Option<usize>) -> impl Fn(std::net::TcpStream) + Clone {
    use std::io::Write;
    use std::time::{Duration, Instant};
    move |mut stream| {
        read_request(&mut stream);
        let head = format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = format!("400\r\n[{}]\r\n", " ".repeat(1022));
        let until = Instant::now() + Duration::from_secs(60);
        let mut sent = 0;
        while Instant::now() < until && total.is_none_or(|t| sent < t) {
            if stream.write_all(chunk.as_bytes()).is_err() {
                return;
            }
            sent += 1024;
            if total.is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    }
}
