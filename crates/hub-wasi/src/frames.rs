//! The host ABI's message encoding: fields, each a 32-bit little-endian length and its bytes.

/// A message being written.
#[derive(Clone, Debug, Default)]
pub struct Frames(Vec<u8>);

impl Frames {
    /// Appends one field.
    ///
    /// # Panics
    ///
    /// On a field over 4 GiB, which WebAssembly's 32-bit memory cannot hold anyway.
    pub fn push(&mut self, field: &[u8]) {
        let len = u32::try_from(field.len()).expect("a field fits in 32-bit memory");
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(field);
    }

    /// The encoded message.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A message being read, field by field.
#[derive(Clone, Debug)]
pub struct Fields {
    bytes: Vec<u8>,
    at: usize,
}

impl Fields {
    /// Checks that `bytes` is a whole number of fields.
    #[must_use]
    pub fn parse(bytes: Vec<u8>) -> Option<Self> {
        let mut at = 0;
        while at < bytes.len() {
            let len: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
            at = at.checked_add(4 + usize::try_from(u32::from_le_bytes(len)).ok()?)?;
        }
        (at == bytes.len()).then_some(Fields { bytes, at: 0 })
    }

    /// The next field as text (invalid UTF-8 replaced).
    pub fn next_text(&mut self) -> Option<String> {
        self.next()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

impl Iterator for Fields {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let len: [u8; 4] = self.bytes.get(self.at..self.at + 4)?.try_into().ok()?;
        let start = self.at + 4;
        let end = start + usize::try_from(u32::from_le_bytes(len)).ok()?;
        self.at = end;
        self.bytes.get(start..end).map(<[u8]>::to_vec)
    }
}
