//! `taskctl approve ID [--request R] [--deny [--message M]] [--always]`: answers a question of
//! one of the app's tasks (its oldest one unless `--request` names another).

use supervisor::{Approval, Decision};

use crate::cli::ApproveArgs;

pub fn approve(args: ApproveArgs) -> Result<i32, String> {
    let id = super::parse_id(&args.id)?;
    let decision = if args.deny {
        Decision::Deny {
            message: args.message,
        }
    } else if args.always {
        Decision::AllowAlways
    } else {
        Decision::Allow
    };
    let answered = super::with_app(async |client| {
        let request = match args.request {
            Some(request) => request,
            None => {
                let list = client
                    .get(&format!("/v1/tasks/{id}/approvals"))
                    .await
                    .map_err(|e| e.to_string())?;
                let open: Vec<Approval> = serde_json::from_value(list["approvals"].clone())
                    .map_err(|e| format!("an unexpected answer from Tasktray: {e}"))?;
                let first = open
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("task {id} has no question waiting for an answer"))?;
                first.request_id
            }
        };
        let body = serde_json::to_value(&decision).map_err(|e| e.to_string())?;
        client
            .post(&format!("/v1/tasks/{id}/approvals/{request}"), &body)
            .await
            .map_err(|e| e.to_string())?;
        Ok(request)
    })?;
    let what = match decision {
        Decision::Allow => "allowed",
        Decision::AllowAlways => "allowed for the rest of the task",
        Decision::Deny { .. } => "denied",
    };
    super::out(&format!("task {id}: request {answered} {what}"));
    Ok(0)
}
