//! The app as an installed desktop app: "Start at login" in Settings writes the XDG autostart
//! entry (`$XDG_CONFIG_HOME/autostart/Tasktray.desktop`, in the spec's sandbox HOME) that
//! starts this binary with `--hidden`, and removes it when turned off; Settings shows the
//! version `tasktray --version` prints.
//! Run with tests/e2e/run.sh (skipped otherwise).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tasktray_e2e::ui::{tid, UI_TIMEOUT};
use tasktray_e2e::{enabled, env, wait, App, Launch};
use tasktray_test_support::bounded;

/// How long the entry gets to appear or go once the box is clicked.
const REACT: Duration = Duration::from_secs(10);

fn entry_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn start_at_login_writes_and_removes_the_autostart_entry_with_the_hidden_flag() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("desktop-start-at-login", Launch::default()).await;
        let entry = app.home().join(".config/autostart/Tasktray.desktop");
        assert!(
            !entry.exists(),
            "off by default: {} exists",
            entry.display()
        );

        app.click(&tid("open-settings")).await;
        app.wait_view("Settings", UI_TIMEOUT).await;
        let version = app
            .wait_text(
                &tid("settings-version"),
                env!("CARGO_PKG_VERSION"),
                UI_TIMEOUT,
            )
            .await;
        assert_eq!(
            version.trim(),
            format!("Tasktray {}", env!("CARGO_PKG_VERSION"))
        );
        let checked = || async {
            app.js(
                "return document.querySelector(arguments[0]).checked",
                vec![json!(tid("settings-start-at-login"))],
            )
            .await
        };
        wait::until_async("the box to show the entry's state", UI_TIMEOUT, || async {
            let enabled = app
                .js(
                    "return !document.querySelector(arguments[0]).disabled",
                    vec![json!(tid("settings-start-at-login"))],
                )
                .await;
            if enabled == json!(true) {
                Ok(())
            } else {
                Err(format!("disabled: {enabled}"))
            }
        })
        .await;
        assert_eq!(checked().await, json!(false));

        app.click(&tid("settings-start-at-login")).await;
        let text = wait::until("the autostart entry", REACT, || entry_text(&entry)).await;
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("Exec="))
            .unwrap_or_else(|| panic!("no Exec line in:\n{text}"));
        let app_bin = std::fs::canonicalize(env::app_bin()).expect("the app binary");
        assert!(
            exec.contains(&*app_bin.to_string_lossy()) && exec.ends_with(" --hidden"),
            "the entry starts {exec:?}, not {} --hidden",
            app_bin.display()
        );
        assert!(text.contains("Type=Application"), "{text}");
        wait::until_async("the box to be checked", REACT, || async {
            match checked().await {
                serde_json::Value::Bool(true) => Ok(()),
                v => Err(v.to_string()),
            }
        })
        .await;
        assert_eq!(
            app.invoke("start_at_login", json!({})).await,
            Ok(json!(true))
        );
        app.screenshot("settings-start-at-login").await;

        app.click(&tid("settings-start-at-login")).await;
        wait::until("the entry to go", REACT, || match entry.exists() {
            false => Ok(()),
            true => Err(entry_text(&entry).unwrap_or_default()),
        })
        .await;
        assert_eq!(
            app.invoke("start_at_login", json!({})).await,
            Ok(json!(false))
        );
        app.finish().await;
    })
    .await;
}
