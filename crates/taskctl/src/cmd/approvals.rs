//! `taskctl approvals`: the questions of the app's tasks that wait for an answer.

use supervisor::Approval;

use crate::cli::ApprovalsArgs;

pub fn approvals(args: ApprovalsArgs) -> Result<i32, String> {
    let open = super::with_app(async |client| {
        let list = client
            .get("/v1/approvals")
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_value::<Vec<Approval>>(list["approvals"].clone())
            .map_err(|e| format!("an unexpected answer from Tasktray: {e}"))
    })?;
    if args.json {
        let json = serde_json::to_string_pretty(&open).map_err(|e| e.to_string())?;
        super::out(&json);
        return Ok(0);
    }
    if open.is_empty() {
        super::out("No task waits for an answer.");
    }
    for approval in &open {
        super::out(&format!(
            "#{} {} asks to use {}: {}  (request {})",
            approval.task,
            approval.tool,
            approval.tool,
            approval.summary(),
            approval.request_id
        ));
    }
    Ok(0)
}
