//! Contract testing: schemathesis generates requests from the served OpenAPI document and
//! checks the live server's answers against it, over every operation, as a customer, as the
//! operator, and for logout with a session of its own (which it ends). Only the checks that
//! say the server keeps its contract: no 5xx, documented status codes, documented content
//! types, responses matching their schemas. A fixed seed and example count make the run
//! repeatable and bound its time (under a minute on two cores for every documented operation).

use std::time::Instant;

use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp};
use crate::support::schemathesis::run_schemathesis;

const OPERATOR_TOKEN: &str = "operator-token-for-contract-tests";

const CHECKS: &str =
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// `/ready` answers 503 `not_ready` by design while the read models catch up (which they do
/// while schemathesis writes): documented, so every check but `not_a_server_error` holds.
const READINESS_CHECKS: &str =
    "status_code_conformance,content_type_conformance,response_schema_conformance";

/// Runs schemathesis as `token` over the operations whose path matches `include` (and not
/// `exclude`), and fails the test with its report unless every check passed.
async fn schemathesis(
    app: &TestApp,
    checks: &str,
    token: &str,
    include: &str,
    exclude: Option<&str>,
) {
    let authorization = format!("Authorization: Bearer {token}");
    let spec = app.url("/api/openapi.json");
    let mut args = vec![
        // No stateful phase: with the credit notes' and reconciliation's `*_id` fields,
        // schemathesis 4.32 infers a link it then rejects as invalid (a `credit_note_id`
        // handed to `GET /api/invoices/{invoice_id}/pdf`) and runs no scenario at all.
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        checks,
        "--seed",
        "20261201",
        "--max-examples",
        "20",
        // One worker thread: CPython 3.11 keeps the AST constructor's recursion depth in
        // state shared by all threads, so two workers in hypothesis' lambda descriptions at
        // once can fail a case with "AST constructor recursion depth mismatch" before any
        // request is sent (python/cpython#106905). Measured against one server: 11 crashes
        // in 40 admin runs with two workers, none in 50 with one; one worker adds ~3 s.
        "--workers",
        "1",
        "--header",
        &authorization,
        "--include-path-regex",
        include,
        // The document's examples are generated data too: they must pass like the rest.
        "--suppress-health-check",
        "all",
        // Nothing remembered between runs: each run is the seed's.
        "--generation-database",
        "none",
        "--no-color",
    ];
    if let Some(exclude) = exclude {
        args.extend(["--exclude-path-regex", exclude]);
    }
    let started = Instant::now();
    let mut output = run_schemathesis(&app.address, &spec, &args).await;
    if crashed_in_cpython_ast(&output.stdout) {
        // Not a verdict on the server: rerun the same seed once.
        eprintln!(
            "schemathesis over {include}: Python's AST bug (gh-106905) stopped a case; again"
        );
        output = run_schemathesis(&app.address, &spec, &args).await;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!(
        "schemathesis over {include} in {:.1} s:\n{}",
        started.elapsed().as_secs_f64(),
        stdout
            .lines()
            .filter(|line| line.contains("passed")
                || line.contains("Summary")
                || line.contains("cases"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether a run's only trouble was CPython 3.11's spurious "AST constructor recursion depth
/// mismatch" (python/cpython#106905: hypothesis parsing its own source for a strategy's
/// description while another thread does too). One worker removes the threads that caused
/// it under `--workers 2`; this stays as a second guard, since schemathesis still runs its
/// worker beside the main thread. It fails a generated case before any request is sent, so
/// it says nothing about the server; a run where a check failed (`❌`) is never retried.
fn crashed_in_cpython_ast(stdout: &[u8]) -> bool {
    let stdout = String::from_utf8_lossy(stdout);
    stdout.contains("AST constructor recursion depth mismatch") && !stdout.contains('❌')
}

#[tokio::test]
async fn the_live_server_keeps_its_openapi_contract() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR_TOKEN)]).await;
    let customer = app.token_for("contract@example.com").await;
    // Something of the customer's to read, pay, refund and list.
    let intent = app.create_intent(&customer, 2500, "eur").await;
    let intent_id = intent["payment_intent_id"].as_str().unwrap_or_default();
    app.confirm(&customer, intent_id, "pm_card_visa").await;

    let customer_exclude = "^/api/admin|^/api/auth/logout$|^/ready$";
    schemathesis(&app, CHECKS, &customer, "^/", Some(customer_exclude)).await;
    schemathesis(&app, CHECKS, OPERATOR_TOKEN, "^/api/admin", None).await;
    schemathesis(&app, READINESS_CHECKS, &customer, "^/ready$", None).await;
    let session: Value = app
        .register("leaving@example.com", "correct horse battery", "Leaving")
        .await;
    let leaving = session["token"].as_str().unwrap().to_owned();
    schemathesis(&app, CHECKS, &leaving, "^/api/auth/logout$", None).await;
}

#[test]
fn only_pythons_ast_crash_is_run_again_never_a_failed_check() {
    let crash = "🚫 1 error\nRuntime Error\nAST constructor recursion depth mismatch (before=66, after=100)";
    assert!(crashed_in_cpython_ast(crash.as_bytes()));
    let failed_too = format!("{crash}\n❌ 1 failed");
    assert!(!crashed_in_cpython_ast(failed_too.as_bytes()));
    assert!(!crashed_in_cpython_ast(
        "🚫 1 error\nRuntime Error\nsomething else".as_bytes()
    ));
}
