//! The symbol versions an x86_64 ELF executable needs from its shared
//! libraries (its `.gnu.version_r` section, what `readelf -V` prints under
//! "Version needs"): enough to tell which glibc a binary runs on, without
//! binutils. Reads ELF64 little-endian only; anything else, or a section
//! that points outside the file, is an error rather than an empty list.

/// One needed version: the library (`libc.so.6`) and the version
/// (`GLIBC_2.17`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub file: String,
    pub version: String,
}

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

fn slice(data: &[u8], at: u64, len: u64) -> Result<&[u8], String> {
    let at = usize::try_from(at).map_err(|_| "offset too large")?;
    let len = usize::try_from(len).map_err(|_| "length too large")?;
    let end = at.checked_add(len).ok_or("offset overflows")?;
    data.get(at..end)
        .ok_or_else(|| format!("bytes {at}..{end} are outside the file"))
}

fn u16_at(data: &[u8], at: u64) -> Result<u16, String> {
    Ok(u16::from_le_bytes(slice(data, at, 2)?.try_into().unwrap()))
}

fn u32_at(data: &[u8], at: u64) -> Result<u32, String> {
    Ok(u32::from_le_bytes(slice(data, at, 4)?.try_into().unwrap()))
}

fn u64_at(data: &[u8], at: u64) -> Result<u64, String> {
    Ok(u64::from_le_bytes(slice(data, at, 8)?.try_into().unwrap()))
}

/// The NUL-terminated string at `at` of the string table `table`.
fn string(table: &[u8], at: u32) -> Result<String, String> {
    let rest = table
        .get(at as usize..)
        .ok_or_else(|| format!("string {at} is outside its table"))?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or("unterminated string")?;
    String::from_utf8(rest[..end].to_vec()).map_err(|e| e.to_string())
}

/// Every version `data` (an ELF file) needs, in section order.
pub fn needed_versions(data: &[u8]) -> Result<Vec<Need>, String> {
    if data.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    // ELFCLASS64, ELFDATA2LSB.
    if data.get(4..6) != Some(&[2, 1]) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let shoff = u64_at(data, 0x28)?;
    let shentsize = u64::from(u16_at(data, 0x3a)?);
    let shnum = u64::from(u16_at(data, 0x3c)?);
    if shentsize < 0x40 {
        return Err(format!("section header size {shentsize}"));
    }
    let header = |i: u64| -> Result<(u32, u32, u64, u64, u32), String> {
        let at = shoff + i * shentsize;
        // sh_type, sh_link, sh_offset, sh_size, sh_info.
        Ok((
            u32_at(data, at + 4)?,
            u32_at(data, at + 0x28)?,
            u64_at(data, at + 0x18)?,
            u64_at(data, at + 0x20)?,
            u32_at(data, at + 0x2c)?,
        ))
    };
    let mut needs = Vec::new();
    for i in 0..shnum {
        let (kind, link, offset, size, count) = header(i)?;
        if kind != SHT_GNU_VERNEED {
            continue;
        }
        let section = slice(data, offset, size)?;
        let (_, _, str_offset, str_size, _) = header(u64::from(link))?;
        let strings = slice(data, str_offset, str_size)?;
        // sh_info entries (Elf64_Verneed), each with vn_cnt Elf64_Vernaux:
        // both lists are bounded by their counts and by the section.
        let mut need = 0u64;
        for _ in 0..count {
            let cnt = u16_at(section, need + 2)?;
            let file = string(strings, u32_at(section, need + 4)?)?;
            let mut aux = need + u64::from(u32_at(section, need + 8)?);
            for _ in 0..cnt {
                let version = string(strings, u32_at(section, aux + 8)?)?;
                needs.push(Need {
                    file: file.clone(),
                    version,
                });
                aux += u64::from(u32_at(section, aux + 12)?);
            }
            need += u64::from(u32_at(section, need + 12)?);
        }
    }
    Ok(needs)
}

/// `GLIBC_2.17` as `(2, 17)`; `None` for another kind of version
/// (`GLIBC_PRIVATE`, `GCC_3.0`).
pub fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    // `GLIBC_2.2.5`: the third number does not matter against 2.17.
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[test]
fn glibc_versions_compare_by_number() {
    assert_eq!(glibc_version("GLIBC_2.2.5"), Some((2, 2)));
    assert_eq!(glibc_version("GLIBC_2.17"), Some((2, 17)));
    assert!(glibc_version("GLIBC_2.34") > Some((2, 17)));
    assert!(glibc_version("GLIBC_2.3.4") < Some((2, 17)));
    assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
    assert_eq!(glibc_version("GCC_3.0"), None);
}

/// The reader agrees with the binary the tests run: the host build needs
/// glibc versions (at least the x86_64 baseline 2.2.5) from libc.so.6.
#[test]
fn the_reader_finds_the_glibc_versions_of_the_host_build() {
    let data = std::fs::read(env!("CARGO_BIN_EXE_keyless")).unwrap();
    let needs = needed_versions(&data).unwrap();
    assert!(
        needs
            .iter()
            .any(|n| n.file == "libc.so.6" && n.version == "GLIBC_2.2.5"),
        "{needs:?}"
    );
    assert!(needed_versions(b"\x7fELF\x02\x01").is_err());
    assert!(needed_versions(b"#!/bin/sh\n").is_err());
}
