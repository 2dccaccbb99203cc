//! Bad input gets a clear 4xx and changes nothing; never a panic, never a 5xx. Property tests
//! over every JSON-bodied endpoint (and the body-less actions beside them) of one real server
//! per test function: arbitrary JSON values, arbitrary bytes, objects with each endpoint's own
//! fields set to arbitrary values, valid bodies with one or two values changed, and arbitrary
//! webhook signatures. Every answer must be a 2xx, or a 4xx with the API's error body after
//! which the event log (and the webhook inbox) holds exactly what it held before.
//!
//! Each test runs `CASES` cases from a fixed seed and prints how many inputs it tried:
//! `cargo test --test api bad_input -- --nocapture`. `PROPTEST_RNG_SEED` and `PROPTEST_CASES`
//! explore further; `BAD_INPUT_STATS=1` prints how often each endpoint answered each status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use billstream::provider::stripe::signature::signature_header;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app_with, TestApp};

mod endpoints;
mod strategies;
mod world;

use endpoints::*;
use strategies::*;
use world::*;

const OPERATOR_TOKEN: &str = "operator-token-for-bad-input-tests";
const WEBHOOK_SECRET: &str = "whsec_bad_input_tests";
const PASSWORD: &str = "correct horse battery";
/// Cases per property: each case sends one request to every endpoint.
const CASES: u32 = 64;
/// The default seed, so that a run is repeatable; `PROPTEST_RNG_SEED` picks another.
const SEED: u64 = 0xB111_5EED;

/// Who calls an endpoint.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anyone,
    Customer,
    Operator,
    /// A webhook delivery, signed with the endpoint's secret (so the body itself is judged).
    Stripe,
}

/// Which of the fixture's objects fills the path's `{id}`.
#[derive(Debug, Clone, Copy)]
enum Id {
    None,
    Customer,
    Payment,
    PendingIntent,
    SubscriptionToCancel,
    Subscription,
    DraftInvoice,
    OpenInvoice,
    InvoiceToVoid,
}
// ---- running ----

/// Runs `property` over `CASES` inputs from `strategy` against one server; prints and returns
/// how many inputs it tried.
fn check<S: Strategy>(
    name: &str,
    world: &World,
    runtime: &tokio::runtime::Runtime,
    strategy: S,
    property: impl AsyncFn(&World, S::Value) -> Result<(), TestCaseError>,
) -> usize
where
    S::Value: Clone,
{
    let defaults = Config::default();
    let config = Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            CASES
        },
        // Each step of shrinking replays a whole case against the server: keep it short
        // unless asked otherwise.
        max_shrink_iters: if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_some() {
            defaults.max_shrink_iters
        } else {
            64
        },
        failure_persistence: None,
        rng_seed: match defaults.rng_seed {
            RngSeed::Random => RngSeed::Fixed(SEED),
            fixed => fixed,
        },
        ..defaults
    };
    let started = Instant::now();
    let inputs = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&strategy, |input| {
        inputs.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(property(world, input))
    });
    let inputs = inputs.into_inner();
    eprintln!(
        "bad_input: {name}: {inputs} inputs tried, {} requests, {:.1} s",
        world.requests.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("BAD_INPUT_STATS").is_some() {
        for ((path, status), count) in world.statuses.lock().expect("not poisoned").iter() {
            eprintln!("bad_input: {name}: {path} {status}: {count}");
        }
    }
    if let Some(stuck) = world.stuck.lock().expect("not poisoned").as_ref() {
        panic!("{name}: {stuck}");
    }
    match outcome {
        Ok(()) => inputs,
        Err(TestError::Fail(reason, input)) => {
            panic!("{name}: {reason}\nminimal failing input: {input:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("{name}: aborted: {reason}"),
    }
}

/// Starts a server with its fixture, runs `body`, stops the server.
fn with_world(body: impl FnOnce(&World, &tokio::runtime::Runtime)) {
    let runtime = runtime();
    let world = runtime.block_on(World::start());
    body(&world, &runtime);
    runtime.block_on(world.app.stop());
}

#[test]
fn arbitrary_json_never_gets_a_server_error_and_refusals_store_nothing() {
    with_world(|world, runtime| {
        let strategy = prop::collection::vec((path_id(), any_json()), ENDPOINTS.len());
        check(
            "arbitrary JSON",
            world,
            runtime,
            strategy,
            async |world, inputs| {
                for (endpoint, (id, value)) in ENDPOINTS.iter().zip(inputs) {
                    world
                        .probe(endpoint, &id, &Body::json(&value), &Signing::Valid)
                        .await?;
                }
                Ok(())
            },
        );
    });
}

#[test]
fn arbitrary_bytes_never_get_a_server_error_and_refusals_store_nothing() {
    with_world(|world, runtime| {
        let strategy = prop::collection::vec((any_bytes(), content_type()), ENDPOINTS.len());
        check(
            "arbitrary bytes",
            world,
            runtime,
            strategy,
            async |world, inputs| {
                for (endpoint, (bytes, content_type)) in ENDPOINTS.iter().zip(inputs) {
                    let body = Body {
                        bytes,
                        content_type,
                    };
                    world
                        .probe(endpoint, &PathId::Real, &body, &Signing::Valid)
                        .await?;
                }
                Ok(())
            },
        );
    });
}

#[test]
fn arbitrary_field_values_never_get_a_server_error_and_refusals_store_nothing() {
    with_world(|world, runtime| {
        let strategy: Vec<_> = ENDPOINTS
            .iter()
            .map(|endpoint| (path_id(), shaped_body(endpoint.fields, &world.fixture)))
            .collect();
        check(
            "arbitrary field values",
            world,
            runtime,
            strategy,
            async |world, inputs| {
                for (endpoint, (id, value)) in ENDPOINTS.iter().zip(inputs) {
                    world
                        .probe(endpoint, &id, &Body::json(&value), &Signing::Valid)
                        .await?;
                }
                Ok(())
            },
        );
    });
}

#[test]
fn a_valid_body_with_one_or_two_bad_values_never_gets_a_server_error_and_refusals_store_nothing() {
    with_world(|world, runtime| {
        let strategy: Vec<_> = ENDPOINTS
            .iter()
            .map(|_| (path_id(), changes(&world.fixture)))
            .collect();
        check(
            "valid bodies with bad values",
            world,
            runtime,
            strategy,
            async |world, inputs| {
                for (endpoint, (id, changes)) in ENDPOINTS.iter().zip(inputs) {
                    let body = changed(valid_body(endpoint, &world.fixture), &changes);
                    world
                        .probe(endpoint, &id, &Body::json(&body), &Signing::Valid)
                        .await?;
                }
                Ok(())
            },
        );
    });
}

#[test]
fn arbitrary_stripe_signatures_never_get_a_server_error_and_store_nothing() {
    let webhook = ENDPOINTS
        .iter()
        .find(|endpoint| matches!(endpoint.caller, Caller::Stripe))
        .expect("the webhook endpoint");
    with_world(|world, runtime| {
        let event = json!({"id": "evt_bad_input", "type": "payment_intent.succeeded",
            "created": 1_700_000_000, "data": {"object": {"id": "pi_x", "object": "payment_intent"}}});
        let strategy = prop::collection::vec(
            prop_oneof![
                Just(serde_json::to_vec(&event).expect("serializes")),
                prop::collection::vec(any::<u8>(), 0..200),
            ]
            .prop_flat_map(|body| {
                let signing = prop_oneof![
                    1 => Just(Signing::Absent),
                    8 => any_signature(body.clone()).prop_map(Signing::Header),
                ];
                (Just(body), signing)
            }),
            8,
        );
        check(
            "arbitrary Stripe signatures",
            world,
            runtime,
            strategy,
            async |world, deliveries| {
                for (bytes, signing) in deliveries {
                    let body = Body {
                        bytes,
                        content_type: Some("application/json".into()),
                    };
                    world.probe(webhook, &PathId::Real, &body, &signing).await?;
                }
                Ok(())
            },
        );
    });
}
