//! `POST /graphql`: each document is parsed and validated against GitHub's published GraphQL
//! schema (the npm package `@octokit/graphql-schema`, `schema.graphql`) with apollo-compiler —
//! fields on their parent types, arguments and their input types, variables' declared types,
//! input objects' fields — and its variables are coerced to the declared types. A document that
//! does not validate is recorded as a violation, as a REST exchange that does not conform is.
//!
//! Served mutations: `createCommitOnBranch` (a real commit on the repository's git state,
//! `expectedHeadOid` checked, marked verified as GitHub signs it) and `updateRefs` (all the
//! updates or none: each `beforeOid` checked, a non-fast-forward refused without `force`;
//! refused as GitHub refuses, with a generic error that has no `type`). The response is projected
//! from what the stand-in knows onto the document's selection set; a field the schema has and
//! the stand-in does not model is recorded as not served.

use std::path::Path;
use std::sync::Arc;

use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema, ast};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::Error;
use crate::git::{Change, Commit, Message, Object, Signature};
use crate::store::{BOT_EMAIL, BOT_LOGIN, Store};

/// GitHub's GraphQL schema, parsed once.
pub struct GraphqlSchema {
    schema: Valid<Schema>,
    /// How many definitions of the published file apollo-compiler rejected (GitHub's schema
    /// has a few duplicate field definitions); the rest is used.
    rejected_definitions: usize,
}

impl std::fmt::Debug for GraphqlSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphqlSchema")
            .field("types", &self.schema.types.len())
            .field("rejected_definitions", &self.rejected_definitions)
            .finish()
    }
}

impl GraphqlSchema {
    /// The schema in `path`: the `schema.graphql` file, or the package folder holding it.
    ///
    /// # Errors
    /// When the file cannot be read or has no `Mutation` type.
    pub fn load(path: &Path) -> Result<Arc<Self>, Error> {
        let file = if path.is_dir() {
            path.join("schema.graphql")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|source| Error::ReadGraphqlSchema {
            path: file.clone(),
            source,
        })?;
        Self::parse(&text, &file)
    }

    /// The schema from SDL text.
    ///
    /// # Errors
    /// When the text has no `Mutation` type.
    pub fn parse(text: &str, file: &Path) -> Result<Arc<Self>, Error> {
        let (schema, rejected_definitions) = match Schema::parse(text, file) {
            Ok(schema) => (schema, 0),
            // Build errors (duplicate definitions) keep every other definition.
            Err(with_errors) => (with_errors.partial, with_errors.errors.len()),
        };
        if schema.get_object("Mutation").is_none() {
            return Err(Error::GraphqlSchema {
                path: file.to_path_buf(),
                message: "it has no `Mutation` type".to_owned(),
            });
        }
        Ok(Arc::new(GraphqlSchema {
            schema: Valid::assume_valid(schema),
            rejected_definitions,
        }))
    }

    /// How many definitions of the file were rejected (duplicates), the rest being used.
    #[must_use]
    pub fn rejected_definitions(&self) -> usize {
        self.rejected_definitions
    }

    /// Validates `query` with its `variables`: the problems, empty when it is valid.
    #[must_use]
    pub fn check(&self, query: &str, operation: Option<&str>, variables: &Value) -> Vec<String> {
        match self.prepare(query, operation, variables) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }

    fn prepare(
        &self,
        query: &str,
        operation: Option<&str>,
        variables: &Value,
    ) -> Result<(Valid<ExecutableDocument>, Value), Vec<String>> {
        let document = ExecutableDocument::parse_and_validate(&self.schema, query, "query.graphql")
            .map_err(|with_errors| {
                with_errors
                    .errors
                    .iter()
                    .map(|d| match d.line_column_range() {
                        Some(range) => format!(
                            "{} (line {}, column {})",
                            d.error, range.start.line, range.start.column
                        ),
                        None => d.error.to_string(),
                    })
                    .collect::<Vec<_>>()
            })?;
        let op = document
            .operations
            .get(operation)
            .map_err(|e| vec![e.message().to_string()])?;
        let values: apollo_compiler::response::JsonMap = serde_json::from_value(match variables {
            Value::Null => json!({}),
            other => other.clone(),
        })
        .map_err(|e| vec![format!("`variables` is not an object: {e}")])?;
        let coerced = apollo_compiler::request::coerce_variable_values(&self.schema, op, &values)
            .map_err(|e| vec![format!("variables: {}", e.message())])?;
        let coerced = serde_json::to_value(&*coerced).unwrap_or(Value::Null);
        Ok((document, coerced))
    }
}

/// What a GraphQL request did: the response body and any problems to record.
pub(crate) struct Outcome {
    pub body: Value,
    /// Validation problems (the document does not fit GitHub's schema).
    pub invalid: Vec<String>,
    /// Fields or operations the schema has and the stand-in does not serve.
    pub unserved: Vec<String>,
}

/// Runs one GraphQL request (`{"query", "variables", "operationName"}`) on the store.
pub(crate) fn execute(
    schema: &GraphqlSchema,
    store: &mut Store,
    html: &str,
    request: &Value,
) -> Outcome {
    let query = request.get("query").and_then(Value::as_str).unwrap_or("");
    let operation = request.get("operationName").and_then(Value::as_str);
    let variables = request.get("variables").cloned().unwrap_or(Value::Null);
    let (document, variables) = match schema.prepare(query, operation, &variables) {
        Ok(prepared) => prepared,
        Err(problems) => {
            let errors: Vec<Value> = problems
                .iter()
                .map(|p| json!({ "message": p, "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }))
                .collect();
            return Outcome {
                body: json!({ "errors": errors }),
                invalid: problems,
                unserved: Vec::new(),
            };
        }
    };
    let Ok(op) = document.operations.get(operation) else {
        return Outcome {
            body: json!({ "errors": [{ "message": "no operation" }] }),
            invalid: vec!["no operation to run".to_owned()],
            unserved: Vec::new(),
        };
    };
    let mut data = Map::new();
    let mut errors = Vec::new();
    let mut unserved = Vec::new();
    for field in fields(&document, &op.selection_set) {
        let key = field.response_key().to_string();
        let result = match (op.operation_type, field.name.as_str()) {
            (ast::OperationType::Mutation, "createCommitOnBranch") => {
                let input = field
                    .arguments
                    .iter()
                    .find(|a| a.name == "input")
                    .map_or(Value::Null, |a| to_json(&a.value, &variables));
                create_commit_on_branch(store, html, &input)
            }
            (ast::OperationType::Mutation, "updateRefs") => {
                let input = field
                    .arguments
                    .iter()
                    .find(|a| a.name == "input")
                    .map_or(Value::Null, |a| to_json(&a.value, &variables));
                update_refs(store, &input)
            }
            (ast::OperationType::Mutation, "__typename") => Ok(json!("Mutation")),
            (_, "__typename") => Ok(json!("Query")),
            (kind, name) => {
                unserved.push(format!("{} field `{name}`", kind.name()));
                Err(
                    json!({ "type": "NOT_SERVED", "message": format!("the stand-in does not serve `{name}`") }),
                )
            }
        };
        match result {
            Ok(value) => {
                let projected =
                    project(&document, &field.selection_set, &value, &key, &mut unserved);
                data.insert(key, projected);
            }
            Err(mut error) => {
                error["path"] = json!([key]);
                errors.push(error);
                data.insert(key, Value::Null);
            }
        }
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Outcome {
        body,
        invalid: Vec::new(),
        unserved,
    }
}

/// The fields of a selection set, fragments expanded.
fn fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
) -> Vec<&'a apollo_compiler::executable::Field> {
    let mut out = Vec::new();
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => out.push(&**field),
            Selection::InlineFragment(inline) => {
                out.extend(fields(document, &inline.selection_set))
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    out.extend(fields(document, &fragment.selection_set));
                }
            }
        }
    }
    out
}

/// `value` cut to the selection set (aliases applied); a selected field `value` lacks is
/// recorded as unserved and answered `null`.
fn project(
    document: &ExecutableDocument,
    set: &SelectionSet,
    value: &Value,
    path: &str,
    unserved: &mut Vec<String>,
) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| project(document, set, item, path, unserved))
                .collect(),
        ),
        Value::Object(object) if !set.selections.is_empty() => {
            let mut out = Map::new();
            for field in fields(document, set) {
                let key = field.response_key().to_string();
                let inner = if field.name == "__typename" {
                    json!(set.ty.as_str())
                } else {
                    match object.get(field.name.as_str()) {
                        Some(found) => project(
                            document,
                            &field.selection_set,
                            found,
                            &format!("{path}.{}", field.name),
                            unserved,
                        ),
                        None => {
                            unserved.push(format!("`{path}.{}`", field.name));
                            Value::Null
                        }
                    }
                };
                out.insert(key, inner);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// A literal or variable argument as JSON (variables already coerced).
fn to_json(value: &ast::Value, variables: &Value) -> Value {
    match value {
        ast::Value::Null => Value::Null,
        ast::Value::Enum(name) => json!(name.as_str()),
        ast::Value::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        ast::Value::String(text) => json!(text),
        ast::Value::Float(number) => serde_json::from_str(number.as_str()).unwrap_or(Value::Null),
        ast::Value::Int(number) => serde_json::from_str(number.as_str()).unwrap_or(Value::Null),
        ast::Value::Boolean(flag) => json!(flag),
        ast::Value::List(items) => items.iter().map(|i| to_json(i, variables)).collect(),
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.to_string(), to_json(v, variables)))
                .collect(),
        ),
    }
}

fn graphql_error(kind: &str, message: &str) -> Value {
    json!({ "type": kind, "message": message })
}

/// GitHub's answer to an `updateRefs` it refuses (a `beforeOid` that does not match, a
/// non-fast-forward without `force`): a generic error without a `type`.
const UPDATE_REFS_REFUSED: &str = "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug.";

/// `updateRefs`: every update of `refUpdates` made, or none (each `beforeOid` checked, a
/// non-fast-forward refused without `force`, the zero id deletes).
fn update_refs(store: &mut Store, input: &Value) -> Result<Value, Value> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text(input, "repositoryId").unwrap_or_default();
    let repo = store.repo_by_node_id_mut(&id).ok_or_else(|| {
        graphql_error(
            "NOT_FOUND",
            &format!("Could not resolve to a node with the global id of '{id}'"),
        )
    })?;
    let refused = || json!({ "message": UPDATE_REFS_REFUSED });
    let zero = "0".repeat(40);
    let mut updates = Vec::new();
    for update in input
        .get("refUpdates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = text(update, "name").unwrap_or_default();
        let after = text(update, "afterOid")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let before = text(update, "beforeOid").map(|b| b.to_ascii_lowercase());
        let force = update
            .get("force")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !name.starts_with("refs/") {
            return Err(refused());
        }
        let current = repo.refs.get(&name).cloned();
        if let Some(before) = &before {
            let held = current.clone().unwrap_or_else(|| zero.clone());
            if *before != held {
                return Err(refused());
            }
        }
        if after != zero {
            if repo.odb.get(&after).is_none() {
                return Err(refused());
            }
            if let Some(current) = &current
                && !force
                && !repo
                    .odb
                    .is_ancestor(&repo.odb.peel(current), &repo.odb.peel(&after))
            {
                return Err(refused());
            }
        }
        updates.push((name, after));
    }
    for (name, after) in updates {
        if after == zero {
            repo.refs.remove(&name);
        } else {
            repo.refs.insert(name, after);
        }
    }
    Ok(json!({
        "__typename": "UpdateRefsPayload",
        "clientMutationId": input.get("clientMutationId").cloned().unwrap_or(Value::Null),
    }))
}

/// `createCommitOnBranch`: the commit, made on the branch's head with `fileChanges`.
fn create_commit_on_branch(store: &mut Store, html: &str, input: &Value) -> Result<Value, Value> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let branch = input.get("branch").cloned().unwrap_or(Value::Null);
    let (Some(repository), Some(branch_name)) = (
        text(&branch, "repositoryNameWithOwner"),
        text(&branch, "branchName"),
    ) else {
        return Err(graphql_error(
            "UNPROCESSABLE",
            "the stand-in needs `branch.repositoryNameWithOwner` and `branch.branchName` (branch ids are not served)",
        ));
    };
    let expected = text(input, "expectedHeadOid")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let message = input.get("message").cloned().unwrap_or(Value::Null);
    let headline = text(&message, "headline").unwrap_or_default();
    let body = text(&message, "body").unwrap_or_default();
    let not_found = || {
        graphql_error(
            "NOT_FOUND",
            &format!("Could not resolve to a Repository with the name '{repository}'."),
        )
    };
    let (owner, name) = repository.split_once('/').ok_or_else(not_found)?;
    let repo = store.repo_mut(owner, name).ok_or_else(not_found)?;
    let branch_ref = format!(
        "refs/heads/{}",
        branch_name.trim_start_matches("refs/heads/")
    );
    let head = repo.refs.get(&branch_ref).cloned().ok_or_else(|| {
        graphql_error(
            "NOT_FOUND",
            &format!("A ref named \"{branch_ref}\" does not exist in this repository."),
        )
    })?;
    if head != expected {
        return Err(graphql_error(
            "STALE_DATA",
            &format!(
                "Expected branch to point to \"{expected}\" but it did not. Pull and try again."
            ),
        ));
    }
    let changes_in = input.get("fileChanges").cloned().unwrap_or(Value::Null);
    let mut changes = Vec::new();
    for deletion in changes_in
        .get("deletions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        changes.push((text(deletion, "path").unwrap_or_default(), Change::Delete));
    }
    for addition in changes_in
        .get("additions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = text(addition, "path").unwrap_or_default();
        let contents = text(addition, "contents").unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(contents.as_bytes())
            .map_err(|_| {
                graphql_error(
                    "UNPROCESSABLE",
                    &format!("The contents of `{path}` are not valid Base64."),
                )
            })?;
        let sha = repo.odb.insert(Object::Blob { content: bytes });
        changes.push((
            path,
            Change::Set {
                mode: "100644".to_owned(),
                sha,
            },
        ));
    }
    let base_tree = repo.odb.commit(&head).map(|c| c.tree.clone());
    let tree = repo
        .odb
        .write_tree(base_tree.as_deref(), changes)
        .map_err(|message| graphql_error("UNPROCESSABLE", &message))?;
    let now = crate::time::now_epoch();
    // With the workflow's token GitHub authors the commit as the app's bot and commits it as
    // GitHub (web-flow), signing it.
    let author = Signature {
        name: BOT_LOGIN.to_owned(),
        email: BOT_EMAIL.to_owned(),
        time: now,
        offset: 0,
    };
    let committer = Signature {
        name: "GitHub".to_owned(),
        email: "noreply@github.com".to_owned(),
        time: now,
        offset: 0,
    };
    let text_message = if body.is_empty() {
        format!("{headline}\n")
    } else {
        format!("{headline}\n\n{body}\n")
    };
    let sha = repo.odb.insert(Object::Commit(Commit {
        tree: tree.clone(),
        parents: vec![head],
        author,
        committer,
        extra_headers: Vec::new(),
        message: Message::from(text_message),
    }));
    repo.refs.insert(branch_ref.clone(), sha.clone());
    repo.verified.insert(sha.clone());
    let url = format!("{html}/{}/{}/commit/{sha}", repo.owner, repo.name);
    let commit = json!({
        "__typename": "Commit",
        "oid": sha,
        "abbreviatedOid": sha.chars().take(7).collect::<String>(),
        "url": url,
        "commitUrl": url,
        "message": if body.is_empty() { headline.clone() } else { format!("{headline}\n\n{body}") },
        "messageHeadline": headline,
        "messageBody": body,
        "committedDate": crate::time::rfc3339(now),
        "authoredDate": crate::time::rfc3339(now),
        "tree": { "oid": tree },
        "signature": { "isValid": true, "state": "VALID", "wasSignedByGitHub": true },
    });
    Ok(json!({
        "__typename": "CreateCommitOnBranchPayload",
        "clientMutationId": input.get("clientMutationId").cloned().unwrap_or(Value::Null),
        "commit": commit,
        "ref": { "name": branch_ref.trim_start_matches("refs/heads/"), "prefix": "refs/heads/", "target": { "oid": sha } },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part of GitHub's schema these tests need (the real one is used by the integration
    /// tests, from `HUB_GITHUB_GRAPHQL_SCHEMA`).
    const SDL: &str = r#"
        type Query { viewer: User! }
        type User { login: String! }
        type Mutation {
          createCommitOnBranch(input: CreateCommitOnBranchInput!): CreateCommitOnBranchPayload
          updateRefs(input: UpdateRefsInput!): UpdateRefsPayload
        }
        input UpdateRefsInput { clientMutationId: String, refUpdates: [RefUpdate!]!, repositoryId: ID! }
        input RefUpdate { afterOid: GitObjectID!, beforeOid: GitObjectID, force: Boolean = false, name: GitRefname! }
        scalar GitRefname
        type UpdateRefsPayload { clientMutationId: String }
        input CreateCommitOnBranchInput {
          branch: CommittableBranch!
          message: CommitMessage!
          expectedHeadOid: GitObjectID!
          fileChanges: FileChanges
          clientMutationId: String
        }
        input CommittableBranch { repositoryNameWithOwner: String, branchName: String, id: ID }
        input CommitMessage { headline: String!, body: String }
        input FileChanges { additions: [FileAddition!], deletions: [FileDeletion!] }
        input FileAddition { path: String!, contents: Base64String! }
        input FileDeletion { path: String! }
        scalar GitObjectID
        scalar Base64String
        type CreateCommitOnBranchPayload { clientMutationId: String, commit: Commit }
        type Commit { oid: GitObjectID!, url: String!, author: String }
    "#;

    fn setup() -> (Arc<GraphqlSchema>, Store, String) {
        let schema = GraphqlSchema::parse(SDL, Path::new("mini.graphql")).expect("parses");
        let mut store = Store::default();
        let head = store.create_repository("octo/hello").expect("created");
        (schema, store, head)
    }

    fn mutation(selection: &str, head: &str) -> Value {
        json!({
            "query": format!("mutation($input: CreateCommitOnBranchInput!) {{ {selection} }}"),
            "variables": { "input": {
                "branch": { "repositoryNameWithOwner": "octo/hello", "branchName": "main" },
                "message": { "headline": "x" },
                "expectedHeadOid": head,
                "fileChanges": { "additions": [{ "path": "a", "contents": "YQ==" }] },
            } },
        })
    }

    /// `updateRefs` moving `main` from `before` to `after`.
    fn update(store: &Store, before: &str, after: &str, force: bool) -> Value {
        let repo = store.repo("octo", "hello").expect("the repository");
        json!({
            "query": "mutation($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }",
            "variables": { "input": {
                "repositoryId": crate::store::node_id("R", &repo.id.to_string()),
                "refUpdates": [{ "name": "refs/heads/main", "beforeOid": before, "afterOid": after, "force": force }],
            } },
        })
    }

    fn main_of(store: &Store) -> String {
        store.repo("octo", "hello").expect("the repository").refs["refs/heads/main"].clone()
    }

    #[test]
    fn update_refs_moves_a_ref_only_from_its_before_oid_and_refuses_as_github_does() {
        let (schema, mut store, first) = setup();
        let request = mutation(
            "createCommitOnBranch(input: $input) { commit { oid } }",
            &first,
        );
        let outcome = execute(&schema, &mut store, "http://h", &request);
        let second = outcome.body["data"]["createCommitOnBranch"]["commit"]["oid"]
            .as_str()
            .expect("a commit")
            .to_owned();
        // Back to the first commit: not a fast-forward, refused without `force`.
        let request = update(&store, &second, &first, false);
        let outcome = execute(&schema, &mut store, "http://h", &request);
        assert!(
            outcome.invalid.is_empty() && outcome.unserved.is_empty(),
            "{:?}",
            outcome.invalid
        );
        assert_eq!(main_of(&store), second);
        assert!(
            outcome.body["errors"][0]["message"].is_string(),
            "{}",
            outcome.body
        );
        // With `force` and the right `beforeOid`: moved.
        let request = update(&store, &second, &first, true);
        let outcome = execute(&schema, &mut store, "http://h", &request);
        assert!(outcome.body.get("errors").is_none(), "{}", outcome.body);
        assert_eq!(
            outcome.body["data"]["updateRefs"],
            json!({ "clientMutationId": null })
        );
        assert_eq!(main_of(&store), first);
        // A `beforeOid` the ref no longer holds: nothing moves, and GitHub's generic error
        // says nothing of why (no `type`).
        let request = update(&store, &second, &second, true);
        let outcome = execute(&schema, &mut store, "http://h", &request);
        assert_eq!(main_of(&store), first);
        let error = &outcome.body["errors"][0];
        assert!(error.get("type").is_none(), "{error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Something went wrong")),
            "{error}"
        );
        assert_eq!(outcome.body["data"]["updateRefs"], Value::Null);
    }

    #[test]
    fn answers_follow_the_selection_and_its_aliases() {
        let (schema, mut store, head) = setup();
        let request = mutation(
            "made: createCommitOnBranch(input: $input) { __typename commit { id: oid } }",
            &head,
        );
        let outcome = execute(&schema, &mut store, "http://h", &request);
        assert!(outcome.invalid.is_empty() && outcome.unserved.is_empty());
        let made = &outcome.body["data"]["made"];
        assert_eq!(made["__typename"], "CreateCommitOnBranchPayload");
        let oid = made["commit"]["id"].as_str().expect("an oid");
        assert_eq!(oid.len(), 40);
        assert_eq!(made["commit"].as_object().map(Map::len), Some(1));
    }

    #[test]
    fn fields_the_standin_does_not_model_are_recorded_as_unserved() {
        let (schema, mut store, head) = setup();
        let request = mutation(
            "createCommitOnBranch(input: $input) { commit { oid author } }",
            &head,
        );
        let outcome = execute(&schema, &mut store, "http://h", &request);
        assert_eq!(outcome.unserved, ["`createCommitOnBranch.commit.author`"]);
        let query = json!({ "query": "{ viewer { login } }" });
        let outcome = execute(&schema, &mut store, "http://h", &query);
        assert_eq!(outcome.unserved, ["query field `viewer`"]);
        assert_eq!(outcome.body["data"]["viewer"], Value::Null);
    }

    #[test]
    fn invalid_documents_and_variables_are_problems_not_answers() {
        let (schema, _, head) = setup();
        assert!(
            schema
                .check("{ viewer { login } }", None, &Value::Null)
                .is_empty()
        );
        let misspelt = schema.check("{ viewer { logn } }", None, &Value::Null);
        assert!(
            misspelt.iter().any(|p| p.contains("`logn`")),
            "{misspelt:?}"
        );
        let request = mutation(
            "createCommitOnBranch(input: $input) { commit { oid } }",
            &head,
        );
        let query = request["query"].as_str().expect("a query");
        let mut variables = request["variables"].clone();
        variables["input"]["message"] = json!({ "title": "x" });
        let problems = schema.check(query, None, &variables);
        assert!(
            problems.iter().any(|p| p.contains("variables")),
            "{problems:?}"
        );
    }
}
