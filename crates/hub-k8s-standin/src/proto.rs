//! The one protocol-buffers body a served client sends: helm 3's release storage writes its
//! Secrets with client-go's typed client, which encodes them as protobuf
//! (`application/vnd.kubernetes.protobuf`) and does not fall back to JSON on a 415. This
//! reads that envelope (`k8s\0` + `runtime.Unknown`) and a `v1.Secret` (fields numbered as
//! in `k8s.io/api/core/v1/generated.proto`) into the JSON the rest of the stand-in keeps.
//! A field it does not know is an error, never dropped.

use base64::Engine as _;
use serde_json::{Map, Value, json};

struct Reader<'a> {
    bytes: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first().ok_or("truncated varint")?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint too long".into())
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, String> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|e| e.to_string())?;
                if len > self.bytes.len() {
                    return Err("truncated field".into());
                }
                let (value, rest) = self.bytes.split_at(len);
                self.bytes = rest;
                Field::Bytes(value)
            }
            wire => return Err(format!("wire type {wire} is not used by a Secret")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn fields(bytes: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut reader = Reader { bytes };
    let mut all = Vec::new();
    while let Some(f) = reader.next()? {
        all.push(f);
    }
    Ok(all)
}

fn text(field: &Field<'_>) -> Result<String, String> {
    match field {
        Field::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|e| e.to_string()),
        Field::Varint(_) => Err("a string field holds a number".into()),
    }
}

fn bytes<'a>(field: &Field<'a>) -> Result<&'a [u8], String> {
    match field {
        Field::Bytes(b) => Ok(b),
        Field::Varint(_) => Err("a message field holds a number".into()),
    }
}

fn number(field: &Field<'_>) -> Result<u64, String> {
    match field {
        Field::Varint(v) => Ok(*v),
        Field::Bytes(_) => Err("a number field holds bytes".into()),
    }
}

/// A `map<string, string>` or `map<string, bytes>` entry.
fn entry(field: &Field<'_>) -> Result<(String, Vec<u8>), String> {
    let (mut key, mut value) = (String::new(), Vec::new());
    for (n, f) in fields(bytes(field)?)? {
        match n {
            1 => key = text(&f)?,
            2 => value = bytes(&f)?.to_vec(),
            _ => return Err(format!("map entry field {n}")),
        }
    }
    Ok((key, value))
}

fn time(field: &Field<'_>) -> Result<Value, String> {
    let mut seconds = 0i64;
    for (n, f) in fields(bytes(field)?)? {
        if n == 1 {
            seconds = i64::try_from(number(&f)?).map_err(|e| e.to_string())?;
        }
    }
    let at = chrono::DateTime::from_timestamp(seconds, 0).ok_or("time out of range")?;
    Ok(json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

const EPOCH: &str = "1970-01-01T00:00:00Z";

fn object_meta(data: &[u8]) -> Result<Value, String> {
    let mut meta = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut finalizers = Vec::new();
    for (n, f) in fields(data)? {
        match n {
            1 => meta.insert("name".into(), json!(text(&f)?)),
            2 => meta.insert("generateName".into(), json!(text(&f)?)),
            3 => meta.insert("namespace".into(), json!(text(&f)?)),
            4 => meta.insert("selfLink".into(), json!(text(&f)?)),
            5 => meta.insert("uid".into(), json!(text(&f)?)),
            6 => meta.insert("resourceVersion".into(), json!(text(&f)?)),
            7 => meta.insert("generation".into(), json!(number(&f)?)),
            8 => meta.insert("creationTimestamp".into(), time(&f)?),
            11 => {
                let (k, v) = entry(&f)?;
                labels.insert(k, json!(String::from_utf8(v).map_err(|e| e.to_string())?));
                None
            }
            12 => {
                let (k, v) = entry(&f)?;
                annotations.insert(k, json!(String::from_utf8(v).map_err(|e| e.to_string())?));
                None
            }
            14 => {
                finalizers.push(json!(text(&f)?));
                None
            }
            other => {
                return Err(format!(
                    "ObjectMeta field {other} is not read by the stand-in"
                ));
            }
        };
    }
    // proto2 optional fields come with their zero values set: the JSON form omits them.
    meta.retain(|_, v| {
        !(v.as_str() == Some("") || v.as_u64() == Some(0) || v.as_str() == Some(EPOCH))
    });
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".into(), Value::Array(finalizers));
    }
    Ok(Value::Object(meta))
}

/// The JSON form of a protobuf-encoded `v1.Secret` body.
///
/// # Errors
/// A body that is not the envelope, another kind, or a field the stand-in does not read.
pub fn secret(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(b"k8s\0")
        .ok_or("no `k8s\\0` protobuf envelope")?;
    let mut raw = None;
    for (n, f) in fields(envelope)? {
        match n {
            1 => {
                for (m, g) in fields(bytes(&f)?)? {
                    if m == 2 && text(&g)? != "Secret" {
                        return Err(format!("protobuf kind `{}` is not served", text(&g)?));
                    }
                }
            }
            2 => raw = Some(bytes(&f)?),
            _ => {}
        }
    }
    let raw = raw.ok_or("the envelope holds no object")?;
    let mut secret = Map::new();
    secret.insert("apiVersion".into(), json!("v1"));
    secret.insert("kind".into(), json!("Secret"));
    let mut data = Map::new();
    let mut string_data = Map::new();
    for (n, f) in fields(raw)? {
        match n {
            1 => {
                secret.insert("metadata".into(), object_meta(bytes(&f)?)?);
            }
            2 => {
                let (k, v) = entry(&f)?;
                data.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                );
            }
            3 => {
                secret.insert("type".into(), json!(text(&f)?));
            }
            4 => {
                let (k, v) = entry(&f)?;
                string_data.insert(k, json!(String::from_utf8(v).map_err(|e| e.to_string())?));
            }
            5 => {
                secret.insert("immutable".into(), json!(number(&f)? != 0));
            }
            other => return Err(format!("Secret field {other} is not read by the stand-in")),
        }
    }
    if !data.is_empty() {
        secret.insert("data".into(), Value::Object(data));
    }
    if !string_data.is_empty() {
        secret.insert("stringData".into(), Value::Object(string_data));
    }
    Ok(Value::Object(secret))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn field(n: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3) | 2, u8::try_from(value.len()).unwrap()];
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn a_helm_release_secret() {
        let label = [field(1, b"owner"), field(2, b"helm")].concat();
        let meta = [field(1, b"sh.helm.release.v1.web.v1"), field(11, &label)].concat();
        let data = [field(1, b"release"), field(2, b"H4sI")].concat();
        let secret = [
            field(1, &meta),
            field(2, &data),
            field(3, b"helm.sh/release.v1"),
        ]
        .concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let body = [
            b"k8s\0".as_slice(),
            &field(1, &type_meta),
            &field(2, &secret),
        ]
        .concat();
        assert_eq!(
            secret_json(&body),
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "sh.helm.release.v1.web.v1", "labels": {"owner": "helm"}},
                "data": {"release": "SDRzSQ=="},
                "type": "helm.sh/release.v1"
            })
        );
        assert!(super::secret(b"{}").is_err());
        let unknown = [b"k8s\0".as_slice(), &field(2, &field(9, b"x"))].concat();
        assert!(super::secret(&unknown).unwrap_err().contains("field 9"));
    }

    fn secret_json(body: &[u8]) -> Value {
        super::secret(body).unwrap()
    }
}
