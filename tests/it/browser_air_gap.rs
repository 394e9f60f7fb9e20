//! The license page's "Air-gapped appliance" section in a real browser: a request file
//! chosen with the file input is read into the form (app.js), uploaded, and the box is
//! then listed as holding the license (docs/screenshots/license-air-gap-1280.png).

use crate::air_gap::{Appliance, count};
use crate::browser::{Browser, runtime, sign_in, wait_for};
use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use fantoccini::Locator;
use std::time::Duration;

#[test]
#[ignore = "needs Chromium; scripts/test runs it"]
fn a_request_file_chosen_on_the_license_page_binds_the_box() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("req.json");
    let request = Appliance::new("fp-browser").request(&license, s.clock.now_utc());
    std::fs::write(&path, serde_json::to_string_pretty(&request).unwrap()).unwrap();
    let page = s.url(&format!("/licensing/licenses/{id}"));
    runtime().block_on(async {
        let b = Browser::start().await;
        sign_in(&b, &s).await;
        b.client.goto(&page).await.unwrap();
        wait_for(&b, "#air-gap-upload-form").await;
        b.client
            .find(Locator::Css("#air-gap-upload-form input[type=file]"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
        // app.js reads the chosen file into the textarea.
        let area = b.client.find(Locator::Css("#air-gap-file")).await.unwrap();
        let mut filled = String::new();
        for _ in 0..50 {
            filled = area.prop("value").await.unwrap().unwrap_or_default();
            if !filled.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(filled.contains("licd-transfer/1"), "{filled}");
        b.click("#air-gap-upload-form button").await;
        // The answer is a download, and the page stays. Loading the page again before the
        // upload has arrived would cancel it (seen under the full suite's load), so the
        // test waits for the server to have bound the box, then loads the page.
        let mut bound = false;
        for _ in 0..100 {
            if count(&s, "SELECT count(*) FROM offline_activations") == 1 {
                bound = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(bound, "the upload did not bind the box");
        b.client.goto(&page).await.unwrap();
        wait_for(&b, "#air-gap-boxes").await;
        assert!(b.text("#air-gap-boxes").await.contains("fp-browser"));
        // The section as staff see it, scrolled to.
        b.set_viewport(1280, 1000).await;
        b.client
            .execute(
                "document.activeElement.blur(); [...document.querySelectorAll('h2')].find(h => h.textContent.includes('Air-gapped')).scrollIntoView();",
                vec![],
            )
            .await
            .unwrap();
        let png = b.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::write(dir.join("license-air-gap-1280.png"), png).unwrap();
        b.close().await;
    });
}
