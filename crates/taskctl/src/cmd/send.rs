//! `taskctl send ID MESSAGE`: a message into a running task of the app (it takes it into its
//! running turn, or as its next turn).

use std::io::Read;

use serde_json::json;

use crate::cli::SendArgs;

pub fn send(args: SendArgs) -> Result<i32, String> {
    let id = super::parse_id(&args.id)?;
    let message = if args.message == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the message from stdin: {e}"))?;
        text
    } else {
        args.message
    };
    super::with_app(async |client| {
        client
            .post(
                &format!("/v1/tasks/{id}/messages"),
                &json!({ "message": message }),
            )
            .await
            .map_err(|e| e.to_string())
    })?;
    super::out(&format!("task {id}: message sent"));
    Ok(0)
}
