//! The three patch types the API server takes: JSON patch (RFC 6902), JSON merge patch
//! (RFC 7386) and Kubernetes' strategic merge patch (lists of objects merged by their key).

use serde_json::{Map, Value};

/// Applies an RFC 6902 JSON patch.
///
/// # Errors
/// An operation that is not an object, names no valid path, or whose `test` fails.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch.as_array().ok_or("a JSON patch is an array")?;
    for op in ops {
        let name = op["op"]
            .as_str()
            .ok_or("a JSON patch operation has no `op`")?;
        let path = op["path"]
            .as_str()
            .ok_or("a JSON patch operation has no `path`")?;
        match name {
            "add" | "replace" => {
                let value = op.get("value").cloned().ok_or("no `value`")?;
                if path.is_empty() {
                    *target = value;
                    continue;
                }
                let (parent, last) = split(path)?;
                let parent = target
                    .pointer_mut(&parent)
                    .ok_or_else(|| format!("no parent for `{path}`"))?;
                match parent {
                    Value::Object(map) => {
                        if name == "replace" && !map.contains_key(&last) {
                            return Err(format!("`{path}` does not exist"));
                        }
                        map.insert(last, value);
                    }
                    Value::Array(items) => {
                        let index = if last == "-" {
                            items.len()
                        } else {
                            last.parse::<usize>()
                                .map_err(|_| format!("`{path}`: not an index"))?
                        };
                        if name == "replace" {
                            *items
                                .get_mut(index)
                                .ok_or_else(|| format!("`{path}` does not exist"))? = value;
                        } else if index <= items.len() {
                            items.insert(index, value);
                        } else {
                            return Err(format!("`{path}`: index out of range"));
                        }
                    }
                    _ => return Err(format!("`{path}`: the parent is not a container")),
                }
            }
            "remove" => {
                let (parent, last) = split(path)?;
                let parent = target
                    .pointer_mut(&parent)
                    .ok_or_else(|| format!("no parent for `{path}`"))?;
                let removed = match parent {
                    Value::Object(map) => map.remove(&last).is_some(),
                    Value::Array(items) => match last.parse::<usize>() {
                        Ok(i) if i < items.len() => {
                            items.remove(i);
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                };
                if !removed {
                    return Err(format!("`{path}` does not exist"));
                }
            }
            "test" => {
                if target.pointer(path) != op.get("value") {
                    return Err(format!("test of `{path}` failed"));
                }
            }
            other => return Err(format!("JSON patch operation `{other}` is not served")),
        }
    }
    Ok(())
}

fn split(path: &str) -> Result<(String, String), String> {
    let at = path
        .rfind('/')
        .ok_or_else(|| format!("`{path}` is not a JSON pointer"))?;
    let last = path[at + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..at].to_string(), last))
}

/// Applies an RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in fields {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// The merge key of the lists the served kinds declare `patchStrategy: merge` on
/// (`k8s.io/api` struct tags), by field name.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "hostAliases"
        | "resourceClaims" => match field {
            "hostAliases" => "ip",
            _ => "name",
        },
        "ports" => "containerPort",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        _ => return None,
    })
}

/// Applies a strategic merge patch: maps merge, `null` deletes, lists with a merge key
/// (`containers` by `name`, …) merge element by element (with `$patch: delete`), and
/// `$setElementOrder/…` orders them; other lists are replaced. `$retainKeys` keeps only
/// the keys it lists.
///
/// # Errors
/// A directive the stand-in does not serve.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    match fields.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replaced = fields.clone();
            replaced.remove("$patch");
            *target = Value::Object(replaced);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) => return Err(format!("`$patch: {other}` is not served")),
        None => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in fields {
        if key.starts_with("$setElementOrder/")
            || key.starts_with("$deleteFromPrimitiveList/")
            || key == "$retainKeys"
        {
            continue;
        }
        if value.is_null() {
            map.remove(key);
            continue;
        }
        match (value, merge_key(key)) {
            (Value::Array(items), Some(merge)) => {
                let mut list = match map.remove(key) {
                    Some(Value::Array(existing)) => existing,
                    _ => Vec::new(),
                };
                for item in items {
                    let id = item.get(merge);
                    let at = list.iter().position(|e| id.is_some() && e.get(merge) == id);
                    if item.get("$patch").and_then(Value::as_str) == Some("delete") {
                        if let Some(at) = at {
                            list.remove(at);
                        }
                        continue;
                    }
                    match at {
                        Some(at) => strategic_merge_patch(&mut list[at], item)?,
                        None => {
                            let mut fresh = Value::Null;
                            strategic_merge_patch(&mut fresh, item)?;
                            list.push(fresh);
                        }
                    }
                }
                if let Some(Value::Array(order)) = fields.get(&format!("$setElementOrder/{key}")) {
                    let rank = |e: &Value| {
                        order
                            .iter()
                            .position(|o| o.get(merge) == e.get(merge))
                            .unwrap_or(usize::MAX)
                    };
                    list.sort_by_key(rank);
                }
                map.insert(key.clone(), Value::Array(list));
            }
            (Value::Object(_), _) => {
                let slot = map.entry(key.clone()).or_insert(Value::Null);
                strategic_merge_patch(slot, value)?;
                if slot.is_null() {
                    map.remove(key);
                }
            }
            _ => {
                map.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(Value::Array(keep)) = fields.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        map.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_keeps_other_containers_and_merges_by_name() {
        let mut d = json!({"spec": {"containers": [
            {"name": "web", "image": "web:1", "ports": [{"containerPort": 80}]},
            {"name": "log", "image": "log:1"}
        ]}});
        strategic_merge_patch(
            &mut d,
            &json!({"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
                "containers": [{"name": "web", "image": "web:2"}]
            }}),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"spec": {"containers": [
                {"name": "web", "image": "web:2", "ports": [{"containerPort": 80}]},
                {"name": "log", "image": "log:1"}
            ]}})
        );
        strategic_merge_patch(
            &mut d,
            &json!({"spec": {"containers": [{"name": "log", "$patch": "delete"}]}}),
        )
        .unwrap();
        assert_eq!(d["spec"]["containers"].as_array().unwrap().len(), 1);
        // A list without a merge key is replaced; null deletes.
        let mut m = json!({"args": ["a", "b"], "x": 1});
        strategic_merge_patch(&mut m, &json!({"args": ["c"], "x": null})).unwrap();
        assert_eq!(m, json!({"args": ["c"]}));
    }

    #[test]
    fn json_patch_replaces_adds_removes_and_tests() {
        let mut d = json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"t": 1}});
        json_patch(
            &mut d,
            &json!([
                {"op": "test", "path": "/spec/t", "value": 1},
                {"op": "replace", "path": "/spec/t", "value": 2},
                {"op": "add", "path": "/metadata/annotations/b~1c", "value": "2"},
                {"op": "remove", "path": "/metadata/annotations/a"}
            ]),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"metadata": {"annotations": {"b/c": "2"}}, "spec": {"t": 2}})
        );
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "test", "path": "/spec/t", "value": 1}])
            )
            .is_err()
        );
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "replace", "path": "/nope", "value": 1}])
            )
            .is_err()
        );
    }

    #[test]
    fn merge_patch_is_rfc_7386() {
        let mut d = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut d, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(d, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }
}
