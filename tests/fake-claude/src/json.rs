//! A JSON object writer that keeps fields in the order they are added.
//!
//! The real CLI writes `"type"` first on every line; `serde_json::Map` would sort the keys (the
//! `preserve_order` feature would change the map type for the whole workspace), so lines are
//! built field by field instead.

use serde_json::Value;

/// An ordered JSON object being built; [`Obj::build`] gives its text.
#[derive(Debug)]
pub(crate) struct Obj(String);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(String::from("{"))
    }

    /// Adds a field with any value `serde_json` can hold.
    pub(crate) fn field(self, key: &str, value: impl Into<Value>) -> Self {
        let value: Value = value.into();
        self.raw(key, &value.to_string())
    }

    /// Adds a field whose value is already JSON text (a nested [`Obj`], an array).
    pub(crate) fn raw(mut self, key: &str, json: &str) -> Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&Value::from(key).to_string());
        self.0.push(':');
        self.0.push_str(json);
        self
    }

    /// Adds a nested object.
    pub(crate) fn obj(self, key: &str, nested: Obj) -> Self {
        self.raw(key, &nested.build())
    }

    pub(crate) fn build(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A JSON array of already-built objects.
pub(crate) fn array(items: Vec<Obj>) -> String {
    let items: Vec<String> = items.into_iter().map(Obj::build).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_escapes() {
        let line = Obj::new()
            .field("type", "x")
            .field("a\"b", "line\nbreak")
            .field("n", 3)
            .field("none", Value::Null)
            .obj("nested", Obj::new().field("z", true))
            .raw("list", &array(vec![Obj::new(), Obj::new().field("k", 1.5)]))
            .build();
        assert_eq!(
            line,
            r#"{"type":"x","a\"b":"line\nbreak","n":3,"none":null,"nested":{"z":true},"list":[{},{"k":1.5}]}"#
        );
        let parsed: Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(parsed["a\"b"], "line\nbreak");
    }
}
