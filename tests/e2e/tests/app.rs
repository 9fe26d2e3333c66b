//! The app as a whole, without the UI's DOM: its window, its tray item and menu, Quit, and the
//! single instance. Run with tests/e2e/run.sh (skipped otherwise).

use std::time::{Duration, Instant};

use tasktray_e2e::tray::MenuItem;
use tasktray_e2e::{enabled, records, wait, x11, App, Launch};
use tasktray_test_support::bounded;

/// The menu of an app with no task, top level, as the user reads it.
const IDLE_MENU: [&str; 7] = [
    "No task running · 0 finished",
    "New task…",
    "Show Tasktray",
    "Running (0)",
    "Recent",
    "Settings…",
    "Quit Tasktray",
];

/// How long a window or the app gets to react to a click.
const REACT: Duration = Duration::from_secs(10);

fn main_window_hidden(app: &App) -> bool {
    x11::window_titled(app.pid(), "Tasktray").map_or(true, |w| !w.viewable)
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    (be(16), be(20))
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn window_opens_titled_tasktray() {
    if !enabled() {
        return;
    }
    bounded(async {
        let app = App::launch("window", Launch::default()).await;
        let window = app.main_window_shown(REACT).await;
        assert_eq!(
            (window.width, window.height),
            (440, 660),
            "the size in tauri.conf.json"
        );
        let url = app.client().current_url().await.expect("the page's URL");
        assert_eq!(
            (url.scheme(), url.host_str()),
            ("tauri", Some("localhost")),
            "the bundled UI: {url}"
        );

        let shot = app.screenshot("window").await;
        let png = std::fs::read(&shot).expect("read the screenshot");
        let (w, h) = png_size(&png);
        assert!(
            w >= 300 && h >= 300,
            "{}: the webview is only {w}x{h}",
            shot.display()
        );
        eprintln!("screenshot: {} ({w}x{h})", shot.display());
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn tray_item_registers_with_the_full_menu() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("tray-menu", Launch::hidden()).await;
        let tray = app.tray().await;

        let props = tray.properties().await.expect("the item's properties");
        assert_eq!(props["Status"], "Active", "{props:#}");
        // No text label beside the icon: panels that show labels would draw it.
        assert_eq!(props["XAyatanaLabel"], "", "{props:#}");
        // tray-icon writes the icon to $XDG_RUNTIME_DIR (else the temp dir): the sandbox's.
        let icon = std::path::Path::new(props["IconName"].as_str().unwrap_or_default());
        assert!(
            icon.starts_with(app.sandbox()) && icon.is_file(),
            "the icon is a file in the sandbox: {props:#}"
        );

        let menu = tray.menu().await.expect("the menu");
        assert_eq!(menu.labels(), IDLE_MENU, "\n{}", menu.outline());
        let entry = |label: &str| -> &MenuItem {
            menu.find(&[label])
                .unwrap_or_else(|| panic!("no {label:?} in\n{}", menu.outline()))
        };
        assert!(
            !entry(IDLE_MENU[0]).enabled,
            "the header is a label, not an action"
        );
        for action in ["New task…", "Show Tasktray", "Settings…", "Quit Tasktray"] {
            assert!(entry(action).enabled, "{action} is enabled");
        }
        let running = entry("Running (0)");
        assert_eq!(running.labels(), ["Nothing running"]);
        assert!(!running.children[0].enabled);
        let recent = entry("Recent");
        assert_eq!(recent.labels(), ["No finished task yet"]);
        assert!(!recent.children[0].enabled);
        // Separators after the header and before Settings.
        let kinds: Vec<bool> = menu.children.iter().map(MenuItem::is_separator).collect();
        assert_eq!(
            kinds,
            [false, true, false, false, false, false, true, false, false],
            "\n{}",
            menu.outline()
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn show_in_the_tray_menu_opens_the_hidden_window() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("tray-show", Launch::hidden()).await;
        let tray = app.tray().await;
        assert!(main_window_hidden(&app), "--hidden starts without a window");
        tray.click("Show Tasktray").await.expect("click Show");
        app.main_window_shown(REACT).await;
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn quit_in_the_tray_menu_ends_the_app_and_leaves_nothing() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("tray-quit", Launch::default()).await;
        let tray = app.tray().await;
        let clicked = Instant::now();
        tray.click("Quit Tasktray").await.expect("click Quit");
        assert!(
            wait::holds_within(REACT, || app.exited()).await,
            "the app is still running {REACT:?} after Quit"
        );
        eprintln!("the app exited {:?} after Quit", clicked.elapsed());
        if let Err(left) = app.wait_nothing_left(REACT).await {
            panic!("processes left after Quit:\n{left}");
        }
        assert!(
            wait::holds_within(REACT, || app.tray_unregistered()).await,
            "the tray item is still registered after Quit"
        );
        app.finish().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "an end-to-end spec of the real app: tests/e2e/run.sh runs it"]
async fn a_second_launch_shows_the_first_instance_and_exits() {
    if !enabled() {
        return;
    }
    bounded(async {
        let mut app = App::launch("single-instance", Launch::hidden()).await;
        app.tray().await; // set up, single-instance name owned
        let sni_offset = records::offset(&tasktray_e2e::env::sni_record());
        assert!(main_window_hidden(&app), "--hidden starts without a window");

        let log = std::fs::File::create(app.artifacts().join("second-launch.log"))
            .expect("create the second launch's log");
        let started = Instant::now();
        let mut second = app
            .command()
            .stdout(log.try_clone().expect("dup the log"))
            .stderr(log)
            .spawn()
            .expect("start a second tasktray");
        let status = tasktray_test_support::wait_child(&mut second, REACT);
        let took = started.elapsed();
        eprintln!("the second launch exited with {status} after {took:?}");
        assert!(status.success(), "the second launch failed: {status}");

        app.main_window_shown(REACT).await;
        assert!(!app.exited(), "the first instance keeps running");
        let registrations: Vec<_> =
            records::read_since(&tasktray_e2e::env::sni_record(), sni_offset)
                .into_iter()
                .filter(|e| e["event"] == "item-registered")
                .collect();
        assert!(
            registrations.is_empty(),
            "the second launch made a tray item: {registrations:?}"
        );
        assert_eq!(
            app.leftovers()
                .iter()
                .filter(|&&p| p == second.id() as i32)
                .count(),
            0
        );
        app.finish().await;
    })
    .await;
}
