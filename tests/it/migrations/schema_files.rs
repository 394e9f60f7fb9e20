//! The step files and the schema files made from them. `schema.sql` and
//! `src/store/registry.sql` show what the steps make, for reading and for reviewing a
//! schema change in a diff; nothing runs them. `UPDATE_SCHEMA=1 cargo test --test it
//! migrations::` rewrites them; without it the test fails while they differ.

use super::{Object, empty, manifest_dir, objects};
use licd::store::migrate::{REGISTRY, Schema, TENANT};
use sha2::{Digest, Sha256};

/// The SHA-256 of every released step. A released step never changes, since databases
/// at its version exist: a schema change is a new step. A step joins this list in the
/// change that adds it; only until the first release that carries it may its checksum
/// change with it.
const RELEASED: &[(&str, &str, &str)] = &[
    (
        "tenant",
        "0001_foundation.sql",
        "54c1333ed973d5ce4b2809005a32e142a013cc5f07bf3b2dfe1cbfe501a4cbbb",
    ),
    (
        "tenant",
        "0002_licensing.sql",
        "5f7f14a81770ab7881933b65ede344b0c1e957f2ef041ba33a12ea2769d1d8e6",
    ),
    (
        "tenant",
        "0003_installations.sql",
        "e7e097c652f5989a7c87a16922dca847a26a91a68b6dc0823ea226c1fe08523e",
    ),
    (
        "tenant",
        "0004_client_certs.sql",
        "260240e171d1033ee47e793b249efaf1167a60e9243e83e610aec8ed28b3c1de",
    ),
    (
        "tenant",
        "0005_one_time_passwords.sql",
        "054f96acac500c93cd75229535e9fa0c0e20fe0ec0369617694265c147b31ace",
    ),
    (
        "tenant",
        "0006_directive_activations.sql",
        "e1b90c0f946b683068c7206c4b4538cf695bfb4d5015bdf26478513ec11581f6",
    ),
    (
        "tenant",
        "0007_license_keys.sql",
        "d3eb447ed206d799e395132b669862f2364602e7b1da97e1dccc7ae5f521a10e",
    ),
    (
        "tenant",
        "0008_fleet_aggregates.sql",
        "0c8271f1b650af40d687f5e66553a3bf8bfdf037bc2fbeea8a2d604cd38d47fc",
    ),
    (
        "tenant",
        "0009_outbox.sql",
        "a9b2beb8451a902b66bcdf28e298eb14004dae45fab761f7171983743f758915",
    ),
    (
        "tenant",
        "0010_customer_portal.sql",
        "013e767f26bb866b626106ab62aeb8cb94e615cc52042dcc982942ed4f746dcf",
    ),
    (
        "tenant",
        "0011_billing.sql",
        "77b422c51134fbc8824ef72c02576c52781987d5a17040c96de76129d115144a",
    ),
    (
        "tenant",
        "0012_subscription_billing.sql",
        "39a01100e6b69f72f088becca1bc9c2bb3fff5963a8f58d6e3ba982f894836ab",
    ),
    (
        "tenant",
        "0013_air_gapped_appliances.sql",
        "ea611881d2cc34c36a5296a2ee783a4109ed3188f22a30b7af1c36edee44933b",
    ),
    (
        "tenant",
        "0014_heartbeat_chain.sql",
        "b24a12ca5dfb01433adb24e2b29c5581e992c1e47e1ec77676d5fb4c7f0d1051",
    ),
    (
        "tenant",
        "0015_license_key_once.sql",
        "b6232ac0db39203773ba599cb31404f2f814fd014e08043c4e0f079c1447cc0c",
    ),
    (
        "tenant",
        "0016_heartbeat_head_on_license.sql",
        "9df6355041b57606a842606c9365ba39eb934a15ae80d4601be6b86ac0a2a36c",
    ),
    (
        "tenant",
        "0017_heartbeat_state.sql",
        "388d1e0a35800b5ac52cbeea41cae9707733651003d6f06735c5ce15e1ef5cbd",
    ),
    (
        "tenant",
        "0018_heartbeat_credential.sql",
        "d941182c0e3d3f3458d39bad86ffc8972e9c899ad62392827510fa0a1bf155a1",
    ),
    (
        "tenant",
        "0019_heartbeat_assessment.sql",
        "73629c0e9f8b6ef0182d0b8d49add6d26e2929d479bab1a5f06e1eb740f915de",
    ),
    (
        "tenant",
        "0020_leaner_licenses.sql",
        "54ee855a39aa7b94dd665aebc7587e68f88e6c79e6ddc8a91f23131906307541",
    ),
    (
        "tenant",
        "0021_seen_day.sql",
        "166d8a2a548221c60ac5e51207dcb6f12a3771f90492f4ecff90a34fc9009482",
    ),
    (
        "tenant",
        "0022_fewer_index_bytes.sql",
        "d0cb64990d03c2086c51548882b39c709593ead23508d51d820b2bcca9f23369",
    ),
    (
        "tenant",
        "0023_signed_by_number.sql",
        "47472f78a2d79b154360d51bcdff945fe9d76a0704afdc641e3d2b0d8a970ba4",
    ),
    (
        "tenant",
        "0024_license_times_as_integers.sql",
        "721c8fd36fd024288838dc31c464992f564471f9ca9bb8290e8c1b02c9008d4b",
    ),
    (
        "tenant",
        "0025_license_numbers.sql",
        "89ce86d4746bca7d651bf4c16408375a7fdf5e8739bee9590fdeba1fba0781e1",
    ),
    (
        "registry",
        "0001_tenants_and_domains.sql",
        "81df77cd1b62a0dbdd045bcf3ed3cff1737a174643065dc3242a4ef4de335a51",
    ),
    (
        "registry",
        "0002_audit_and_tenant_state.sql",
        "4a15f285d0409290bd3270dd94fa8988648553f11757720a891c8377771e3d8f",
    ),
    (
        "registry",
        "0003_recovery_keys_and_public_name.sql",
        "993108db4bb7ca289d60b3300075f19976ee36d931ff9ddf1ac31d2049b0a47a",
    ),
    (
        "registry",
        "0004_tenant_archives.sql",
        "e5e76c09803cd601bea2c040129576bdef1e3450455750423057e25d0eaedbec",
    ),
    (
        "registry",
        "0005_tenant_schedule.sql",
        "177ee294be178283d6b103213b19f1dc801ada2de9c02c3a5c3c319d56f614c9",
    ),
];

const SCHEMAS: [(&Schema, &str); 2] = [
    (&TENANT, "schema.sql"),
    (&REGISTRY, "src/store/registry.sql"),
];

#[test]
fn released_steps_never_change() {
    for (schema, _) in SCHEMAS {
        for step in schema.steps {
            let sum = hex::encode(Sha256::digest(step.sql.as_bytes()));
            let released = RELEASED
                .iter()
                .find(|(kind, file, _)| *kind == schema.name && *file == step.file);
            let Some((_, _, want)) = released else {
                panic!(
                    "{}/{} has no checksum in RELEASED: add (\"{}\", \"{}\", \"{sum}\")",
                    schema.name, step.file, schema.name, step.file
                );
            };
            assert_eq!(
                &sum, want,
                "src/store/migrations/{}/{} changed after its release: put the change in a new step instead",
                schema.name, step.file
            );
        }
    }
    for (kind, file, _) in RELEASED {
        let schema = SCHEMAS.iter().find(|(s, _)| s.name == *kind).unwrap().0;
        assert!(
            schema.steps.iter().any(|s| s.file == *file),
            "released step {kind}/{file} is no longer run"
        );
    }
}

/// Each directory under `src/store/migrations/` holds exactly the steps of one schema,
/// `0001_...sql` upwards without gaps, and the code runs them all in that order.
#[test]
fn step_files_are_numbered_and_all_run() {
    let root = manifest_dir().join("src/store/migrations");
    let mut kinds: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["registry", "tenant"]);
    for (schema, _) in SCHEMAS {
        let mut files: Vec<String> = std::fs::read_dir(root.join(schema.name))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let run: Vec<&str> = schema.steps.iter().map(|s| s.file).collect();
        assert_eq!(files, run, "files in src/store/migrations/{}", schema.name);
        for (n, step) in schema.numbered_steps() {
            assert!(
                step.file.starts_with(&format!("{n:04}_")) && step.file.ends_with(".sql"),
                "step {n} of {} is named {}",
                schema.name,
                step.file
            );
        }
    }
}

#[test]
fn schema_files_are_generated_from_the_steps() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| !v.is_empty());
    let mut stale = Vec::new();
    for (schema, file) in SCHEMAS {
        let want = render(schema);
        // The file is itself a working schema: run alone it makes the same objects.
        let c = empty();
        c.execute_batch(&want).unwrap();
        let by_name = |mut v: Vec<Object>| {
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        };
        assert_eq!(by_name(objects(&c)), by_name(final_objects(schema)));
        let path = manifest_dir().join(file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            if update {
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(file);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from what the steps make: run `UPDATE_SCHEMA=1 cargo test --test it migrations::` and commit the result"
    );
}

/// An object of the final schema, with the step that made it and those that changed it.
struct Made {
    object: Object,
    by: i64,
    changed_by: Vec<i64>,
}

fn final_objects(schema: &Schema) -> Vec<Object> {
    made(schema).into_iter().map(|m| m.object).collect()
}

/// Runs the steps one by one, noting which step made or changed each object.
fn made(schema: &Schema) -> Vec<Made> {
    let c = empty();
    let mut all: Vec<Made> = Vec::new();
    for (n, step) in schema.numbered_steps() {
        c.execute_batch(step.sql).unwrap();
        for o in objects(&c) {
            match all.iter_mut().find(|m| m.object.name == o.name) {
                None => all.push(Made {
                    object: o,
                    by: n,
                    changed_by: Vec::new(),
                }),
                Some(m) if m.object != o => {
                    m.object = o;
                    m.changed_by.push(n);
                }
                Some(_) => {}
            }
        }
    }
    let left = objects(&c);
    all.retain(|m| left.iter().any(|o| o.name == m.object.name));
    all
}

/// The schema as SQLite stores it after the last step: each table (or view) with the
/// step that made it and those that changed it, then its indexes and triggers.
fn render(schema: &Schema) -> String {
    let file = |n: i64| schema.steps[n as usize - 1].file;
    let step = |n: i64| format!("step {n} ({})", file(n));
    let dir = format!("src/store/migrations/{}/", schema.name);
    let mut out = format!(
        "-- GENERATED from the steps in {dir}; do not edit.\n\
         -- `UPDATE_SCHEMA=1 cargo test --test it migrations::` rewrites this file; the tests\n\
         -- fail while it differs. Nothing runs it: a new database runs the steps. It shows a\n\
         -- {} database at schema version {} as SQLite stores it (columns added by a later\n\
         -- step sit at the end of their table), each object with the step that made it.\n",
        schema.name, schema.version
    );
    let all = made(schema);
    for top in all
        .iter()
        .filter(|m| matches!(m.object.kind.as_str(), "table" | "view"))
    {
        let changed: String = top
            .changed_by
            .iter()
            .map(|n| format!("; changed by {}", step(*n)))
            .collect();
        out.push_str(&format!(
            "\n-- {}: {}{changed}\n{};\n",
            top.object.name,
            step(top.by),
            top.object.sql
        ));
        for dep in all
            .iter()
            .filter(|m| m.object.table == top.object.name && m.object.name != top.object.name)
        {
            if dep.by != top.by || !dep.changed_by.is_empty() {
                out.push_str(&format!(
                    "-- {}\n",
                    step(*dep.changed_by.last().unwrap_or(&dep.by))
                ));
            }
            out.push_str(&format!("{};\n", dep.object.sql));
        }
    }
    out
}
