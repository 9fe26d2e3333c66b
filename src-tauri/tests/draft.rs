//! The New task form's draft outlives its window: the app keeps it in memory through
//! `keep_draft` and gives it back through `get_draft`, invoked here as the window invokes them
//! (Tauri's mock runtime: the same IPC, argument names and JSON, without a webview).

use serde_json::{json, Value};
use tasktray::state::KeptDraft;
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

fn app() -> tauri::App<tauri::test::MockRuntime> {
    let app = mock_builder()
        .invoke_handler(tauri::generate_handler![
            tasktray::commands::keep_draft,
            tasktray::commands::get_draft
        ])
        .build(mock_context(noop_assets()))
        .expect("a mock app");
    app.manage(KeptDraft::default());
    app
}

/// A window of `app`, as the one the user opens again (each has its own page).
fn window(
    app: &tauri::App<tauri::test::MockRuntime>,
    label: &str,
) -> WebviewWindow<tauri::test::MockRuntime> {
    WebviewWindowBuilder::new(app, label, Default::default())
        .build()
        .expect("a mock window")
}

fn invoke(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("a URL"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("JSON"))
}

/// A draft as `ui/src/lib/stores/launch.svelte.ts` sends it.
fn draft(prompt: &str) -> Value {
    json!({
        "project_dir": "/home/u/code/proj",
        "name": "Tidy",
        "prompt": prompt,
        "format": "stream-json",
        "permission_mode": "acceptEdits",
        "model": "",
        "keep_session": true,
        "queue": false,
        "worktree": true,
    })
}

#[test]
fn a_draft_is_kept_across_windows_until_forgotten() {
    let app = app();
    let first = window(&app, "main");
    assert_eq!(
        invoke(&first, "get_draft", json!({})),
        Ok(Value::Null),
        "nothing kept at start"
    );
    assert_eq!(
        invoke(
            &first,
            "keep_draft",
            json!({ "draft": draft("Fix the bu") })
        ),
        Ok(Value::Null)
    );
    assert_eq!(
        invoke(
            &first,
            "keep_draft",
            json!({ "draft": draft("Fix the bug") })
        ),
        Ok(Value::Null),
        "each edit replaces the draft"
    );
    first.destroy().expect("close the window");

    let second = window(&app, "main-again");
    assert_eq!(
        invoke(&second, "get_draft", json!({})),
        Ok(draft("Fix the bug")),
        "the next window's form gets the last edit"
    );
    assert_eq!(
        invoke(&second, "get_draft", json!({})),
        Ok(draft("Fix the bug")),
        "reading it keeps it (a window closed before any edit)"
    );

    // The task was started: forgotten.
    assert_eq!(
        invoke(&second, "keep_draft", json!({ "draft": null })),
        Ok(Value::Null)
    );
    assert_eq!(invoke(&second, "get_draft", json!({})), Ok(Value::Null));
}

#[test]
fn a_malformed_draft_is_refused_and_the_kept_one_stays() {
    let app = app();
    let window = window(&app, "main");
    invoke(&window, "keep_draft", json!({ "draft": draft("Keep me") })).expect("kept");
    let mut bad = draft("Lose me");
    bad["permission_mode"] = json!("whatever");
    assert!(
        invoke(&window, "keep_draft", json!({ "draft": bad })).is_err(),
        "an unknown permission mode is refused"
    );
    assert_eq!(
        invoke(&window, "get_draft", json!({})),
        Ok(draft("Keep me"))
    );
}
