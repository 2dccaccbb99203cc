//! The projector: catch-up from checkpoints at start, and replay equal to live.

use aggregates::customer::{
    Customer, CustomerCommand, CustomerName, Email, FieldUpdate, PasswordHash, Phone,
    RegisterCustomer, UpdateProfile,
};
use billstream::store;
use chrono::Utc;
use projections::{CustomerProfiles, Projector};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{open_pool, spawn_app_on, spawn_quiet_app};

#[tokio::test]
async fn events_appended_while_the_projector_was_stopped_appear_after_start() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("billstream.db");
    // Given events committed with no projector running (a crash right after the append).
    let pool = open_pool(&db_path).await;
    let cqrs =
        store::cqrs_for::<Customer>(pool.clone(), &crate::helpers::writer(&pool).await, None, ());
    let hash = bcrypt::hash("correct horse", 4).unwrap();
    for (id, email) in [("c-1", "one@example.com"), ("c-2", "two@example.com")] {
        cqrs.execute(
            id,
            CustomerCommand::Register(RegisterCustomer {
                email: Email::parse(email).unwrap(),
                name: CustomerName::parse("Before Start").unwrap(),
                phone: None,
                password_hash: PasswordHash::new(hash.clone()),
                stripe_customer_id: format!("cus_{id}"),
                registered_at: Utc::now(),
            }),
        )
        .await
        .unwrap();
    }
    cqrs.execute(
        "c-2",
        CustomerCommand::UpdateProfile(UpdateProfile {
            name: Some(CustomerName::parse("Renamed Offline").unwrap()),
            phone: FieldUpdate::Set(Phone::parse("+33 1 23 45 67 89").unwrap()),
            updated_at: Utc::now(),
        }),
    )
    .await
    .unwrap();
    assert!(CustomerProfiles::all(&pool).await.unwrap().is_empty());

    // When the service starts.
    let app = spawn_app_on(&db_path).await;
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/ready", None).await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the service catches up and becomes ready");

    // Then the customers exist in the read model and can log in.
    let login = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "two@example.com", "password": "correct horse"}),
            None,
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["customer"]["name"], "Renamed Offline");
    assert_eq!(body["customer"]["phone"], "+33 1 23 45 67 89");
    assert_eq!(CustomerProfiles::all(&app.pool).await.unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_catch_up_applies_each_event_once() {
    let app = spawn_quiet_app().await;
    app.register("ada@example.com", "correct horse", "Ada")
        .await;
    let projector = Projector::with_all_projections(app.pool.clone());
    assert_eq!(projector.catch_up().await.unwrap(), 0, "already caught up");
    let checkpoint: i64 = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE projection = 'customer_profiles'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(checkpoint, app.event_count().await);
}

#[tokio::test]
async fn replay_rebuilds_every_profile_identically() {
    let app = spawn_quiet_app().await;
    for i in 0..5 {
        let session = app
            .register(
                &format!("user{i}@example.com"),
                "correct horse",
                &format!("User {i}"),
            )
            .await;
        let token = session["token"].as_str().unwrap();
        if i % 2 == 0 {
            app.patch_json(
                "/api/auth/profile",
                &json!({"name": format!("Renamed {i}"), "phone": "+1 555 010 9999"}),
                token,
            )
            .await;
        }
        if i == 3 {
            app.post_json(
                "/api/auth/password",
                &json!({"current_password": "correct horse", "new_password": "another secret"}),
                Some(token),
            )
            .await;
        }
    }
    let live = CustomerProfiles::all(&app.pool).await.unwrap();
    let live_hashes: Vec<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM customer_profiles ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    // Damage the read model to be sure the replay really rebuilds it.
    sqlx::query("UPDATE customer_profiles SET name = 'corrupted'")
        .execute(&app.pool)
        .await
        .unwrap();

    let report = Projector::with_all_projections(app.pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();

    assert_eq!(report.events as i64, app.event_count().await);
    assert_eq!(CustomerProfiles::all(&app.pool).await.unwrap(), live);
    let replayed_hashes: Vec<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM customer_profiles ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(replayed_hashes, live_hashes);
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
}
