//! Garbage input: a deterministic base64 file, as a user might pass by
//! mistake (a key, an image, an encoded archive).

/// About `bytes` bytes of base64 from a fixed pseudo-random stream, in
/// lines of `line` characters (`0`: one line).
pub fn base64(bytes: usize, line: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = String::with_capacity(bytes + bytes / 64 + 1);
    let mut col = 0;
    while out.len() < bytes {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push(ALPHABET[(state >> 58) as usize] as char);
        col += 1;
        if line > 0 && col == line {
            out.push('\n');
            col = 0;
        }
    }
    out.push('\n');
    out
}
