//! What Tasktray writes is the user's alone, whatever the umask, and a repository cannot send
//! the transcript elsewhere. A test binary of its own: it sets the process's umask to 0.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use supervisor::{
    AgentSearch, Event, OutputFormat, Settings, ShimProgram, SpawnRequest, Supervisor,
    SupervisorConfig, TaskOptions, TaskStatus,
};
use tasktray_test_support::{bounded, next_broadcast, workspace_bin, Sandbox};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn request(project: PathBuf, prompt: String, format: OutputFormat) -> SpawnRequest {
    SpawnRequest {
        name: String::new(),
        prompt,
        project_dir: project,
        options: TaskOptions {
            format,
            ..TaskOptions::default()
        },
        follow_up_of: None,
        queue: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_private_and_a_symlinked_transcript_folder_is_refused() {
    // Everything this process creates would be world-writable without explicit modes.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    bounded(async {
        let sandbox = Sandbox::new();
        let data = sandbox.path().join("fresh").join("data");
        let mut config = SupervisorConfig::new(
            data.clone(),
            AgentSearch {
                explicit: Some(workspace_bin("fake-claude")),
                ..AgentSearch::default()
            },
            ShimProgram {
                program: PathBuf::from(env!("CARGO_BIN_EXE_tasktray-shim")),
            },
        );
        config.extra_env.push(("IS_SANDBOX".into(), "1".into()));
        let sup = Supervisor::start(config, tokio::runtime::Handle::current()).expect("start");
        // A prompt too long for argv goes through a prompt file.
        let long = format!("fake: say private; say {}", "x".repeat(200 * 1024));
        let id = sup
            .spawn(request(sandbox.project("p"), long, OutputFormat::Text))
            .expect("spawn");
        assert_eq!(
            sup.wait(id).await.expect("wait").status,
            TaskStatus::Completed
        );
        Settings::default()
            .save(&Settings::path(&data))
            .expect("save settings");

        let root = std::fs::canonicalize(&data).expect("data dir");
        let task = sup.history().task_dir(id);
        for dir in [
            root.clone(),
            root.join("tasks"),
            root.join("locks"),
            task.clone(),
        ] {
            assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        }
        let mut files = vec![
            task.join("task.json"),
            sup.history().log_path(id),
            sup.history().prompt_path(id),
            root.join("next-id"),
            root.join("state.lock"),
            root.join("settings.json"),
        ];
        for lock in std::fs::read_dir(root.join("locks")).expect("locks") {
            files.push(lock.expect("entry").path());
        }
        assert!(files.len() > 6, "a project lock file exists");
        for file in &files {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        // The transcript folder keeps its files out of commits.
        let ignore = sandbox.project("p").join(".claude-tasks/.gitignore");
        assert!(std::fs::read_to_string(&ignore)
            .expect(".gitignore")
            .contains('*'));

        // A repository whose .claude-tasks points elsewhere gets no transcript there.
        let elsewhere = sandbox.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).expect("mkdir");
        let hostile = sandbox.project("hostile");
        symlink(&elsewhere, hostile.join(".claude-tasks")).expect("symlink");
        let mut events = sup.subscribe();
        let id = sup
            .spawn(request(
                hostile,
                "fake: say hi".into(),
                OutputFormat::StreamJson,
            ))
            .expect("spawn");
        let said = next_broadcast(
            &mut events,
            std::time::Duration::from_secs(20),
            |e| match e {
                Event::PersistFailed { task, message } if *task == id => Some(message.clone()),
                _ => None,
            },
        )
        .await;
        assert!(said.contains("symbolic link"), "{said}");
        assert_eq!(
            sup.wait(id).await.expect("wait").status,
            TaskStatus::Completed
        );
        assert_eq!(std::fs::read_dir(&elsewhere).expect("dir").count(), 0);
        sup.shutdown(std::time::Duration::from_secs(5)).await;
    })
    .await;
}
