//! Time-Stamp Authority endpoints: RFC 3161 timestamps and the TSA's
//! certificate chain.

use super::http::{Answer, serve};
use super::state::Shared;
use crate::faults::Endpoint;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;

pub(super) async fn timestamp(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::Tsa, |s, _| {
        s.tsa_serial += 1;
        let now = s.clock.now();
        match s.keys.tsa.respond(&body, now, s.tsa_serial) {
            // timestamp-authority answers 200 since v2.0.0 (201 only with
            // `--use-http-201`).
            Ok(der_bytes) => {
                Answer::bytes(StatusCode::OK, "application/timestamp-reply", der_bytes)
            }
            Err(e) => Answer::error(400, e.to_string()),
        }
    })
    .await
}

pub(super) async fn cert_chain(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Tsa, |s, _| {
        Answer::bytes(
            StatusCode::OK,
            "application/pem-certificate-chain",
            s.keys.tsa.chain_pem().into_bytes(),
        )
    })
    .await
}
