//! Errors as the UI receives them: `{ code, message }`, plus the id of the task in the way for
//! `ProjectBusy`. The UI branches on `code` and shows `message`.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct IpcError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub task_id: Option<u64>,
}

impl IpcError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        IpcError {
            code: code.to_owned(),
            message: message.into(),
            task_id: None,
        }
    }
}

impl From<supervisor::Error> for IpcError {
    fn from(error: supervisor::Error) -> Self {
        let task_id = match &error {
            supervisor::Error::ProjectBusy { task_id, .. } => Some(task_id.0),
            _ => None,
        };
        IpcError {
            code: error.code().to_owned(),
            message: error.to_string(),
            task_id,
        }
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_busy_carries_the_task_in_the_way() {
        let error = IpcError::from(supervisor::Error::ProjectBusy {
            task_id: supervisor::TaskId(7),
            project: "/p".into(),
        });
        let json = serde_json::to_value(&error).expect("serializes");
        assert_eq!(json["code"], "ProjectBusy");
        assert_eq!(json["task_id"], 7);
        assert!(json["message"]
            .as_str()
            .is_some_and(|m| m.contains("task 7")));
        let plain = serde_json::to_value(IpcError::new("Io", "disk full")).expect("serializes");
        assert!(plain.get("task_id").is_none());
    }
}
