//! The `gov serve` request decoders: a `/v1/decide` body, and gateway headers
//! to decision inputs. Never a panic; a repeated identity header is always
//! refused (a proxy that appends must not let the client choose).
//!
//! Input: one flag byte (bit 0: NGINX, else Envoy), then the body up to a
//! NUL byte, then header lines `name: value` separated by `\n`; a first line
//! without `:` is the method.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (body, head) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    if let Ok(request) = gov::serve::fuzzing::decode_body(body) {
        // What decodes serialises back.
        let _ = request.decision.len();
    }
    let mut method: &[u8] = b"GET";
    let mut headers = Vec::new();
    for (i, line) in head.split(|b| *b == b'\n').enumerate() {
        match line.iter().position(|b| *b == b':') {
            Some(c) => {
                let value = &line[c + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                headers.push((&line[..c], value));
            }
            None if i == 0 => method = line,
            None => {}
        }
    }
    let result = gov::serve::fuzzing::decode_gateway(&headers, method, flags & 1 == 1);
    let identities = headers
        .iter()
        .filter(|(n, v)| {
            n.eq_ignore_ascii_case(b"x-gov-identity")
                && hyper_valid_value(v)
        })
        .count();
    if identities > 1 {
        assert_eq!(result.err(), Some("bad_header"), "a repeated identity header was accepted");
    }
});

/// A header value hyper accepts (visible ASCII, space, tab, obs-text).
fn hyper_valid_value(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}
