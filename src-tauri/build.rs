fn main() {
    // Every command the UI may call is listed here; capabilities/main.json grants them to the
    // main window, and nothing else is exposed.
    let commands = &[
        "list_tasks",
        "get_task",
        "task_output",
        "task_log_page",
        "spawn_task",
        "cancel_task",
        "pending_approvals",
        "answer_approval",
        "send_message",
        "interrupt_task",
        "follow_up",
        "remove_task",
        "open_transcript",
        "copy_output",
        "get_settings",
        "save_settings",
        "detect_agent",
        "recent_projects",
        "pick_folder",
        "quit_app",
        "host_process",
        "save_output",
        "take_navigation",
        "app_version",
        "start_at_login",
        "set_start_at_login",
        "keep_draft",
        "get_draft",
        "repo_head",
        "review_task",
        "file_diff",
        "merge_task",
        "discard_worktree",
        "keep_branch",
        "open_worktree",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
