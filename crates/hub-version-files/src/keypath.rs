//! A version at a key path (`version`, `tool.app.version`, `images.0.tag`) of a JSON, YAML
//! or TOML file. Segments are separated by `.`; a number indexes an array.

use jsonc_parser::ast::Value;
use toml_edit::Item;

use crate::edit::Edits;
use crate::{Error, Format, Request, Updated, cargo, npm, yaml};

/// Writes the version at `path`.
pub(crate) fn update(
    format: Format,
    path: &[String],
    text: &str,
    request: &Request<'_>,
) -> Result<Updated, Error> {
    let new = request.version.to_string();
    let key = path.join(".");
    let mut edits = Edits::default();
    match format {
        Format::Yaml => yaml::set(&mut edits, text, path, &new)?,
        Format::Toml => {
            let doc = cargo::parse(text)?;
            let mut item: &Item = doc.as_item();
            for segment in path {
                let next = match item {
                    Item::Value(toml_edit::Value::Array(a)) => {
                        segment
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| a.get(i))
                            .map(|v| {
                                // An array element has no `Item` of its own: handle it here.
                                (None, Some(v))
                            })
                    }
                    _ => item.get(segment.as_str()).map(|i| (Some(i), None)),
                };
                match next {
                    Some((Some(i), _)) => item = i,
                    Some((None, Some(value))) => {
                        let (Some(span), true) = (value.span(), value.is_str()) else {
                            return Err(Error::NotAVersion {
                                key,
                                found: format!("`{}`", value.to_string().trim()),
                            });
                        };
                        edits.replace_quoted(text, key.clone(), span, &new);
                        return Ok(edits.apply(text));
                    }
                    _ => return Err(Error::Missing { key }),
                }
            }
            cargo::set_string(&mut edits, text, &key, item, &new)?;
        }
        Format::Json => {
            let value = npm::parse(text)?;
            let mut at = &value;
            for segment in path {
                let next = match at {
                    Value::Object(o) => o.get(segment).map(|p| &p.value),
                    Value::Array(a) => segment
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| a.elements.get(i)),
                    _ => None,
                };
                let Some(next) = next else {
                    return Err(Error::Missing { key });
                };
                at = next;
            }
            let Value::StringLit(lit) = at else {
                return Err(Error::NotAVersion {
                    key,
                    found: "no string".into(),
                });
            };
            edits.replace(
                key,
                lit.range.start + 1..lit.range.end - 1,
                &lit.value,
                &new,
            );
        }
    }
    Ok(edits.apply(text))
}
