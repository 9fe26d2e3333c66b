//! `taskctl cancel ID`: stops a running task of the app, its whole process tree, and waits
//! until it has ended.

use serde_json::json;

use crate::cli::TaskArgs;
use crate::render;

pub fn cancel(args: TaskArgs) -> Result<i32, String> {
    let id = super::parse_id(&args.id)?;
    let done = super::with_app(async |client| {
        client
            .post(&format!("/v1/tasks/{id}/cancel"), &json!({}))
            .await
            .map_err(|e| e.to_string())?;
        super::wait::until_ended(client, id)
            .await
            .map_err(|e| e.to_string())
    })?;
    say!("{}", render::summary(&done, super::list::now_ms()));
    Ok(super::wait::exit_code(&done))
}
