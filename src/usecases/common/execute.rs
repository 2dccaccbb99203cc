//! Command execution in one place: every use case runs its commands through [`Commands`],
//! which retries a command that lost an optimistic-concurrency race (the aggregate decides
//! again on the winner's events, in this process or any other), and then brings the read
//! models up to date so the caller reads its own writes — even when the command recorded
//! nothing because a concurrent one had already recorded the same news.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::{Aggregate, AggregateError, EventStore};
use projections::Projector;
use rand::Rng;
use sqlx::SqlitePool;

use crate::store::group_commit::GroupCommit;
use crate::store::{self, cqrs_for, event_store, Cqrs};

/// How many times a command runs before a lost race is reported as a conflict. Each retry
/// decides on fresher state, so only a storm of concurrent commands on one aggregate gets here.
const ATTEMPTS: u32 = 24;

/// The commands of aggregate `A`, and its current state for questions the domain answers.
pub struct Commands<A: Aggregate> {
    cqrs: Arc<Cqrs<A>>,
    /// A second store over the same log, to load an aggregate without running a command.
    store: store::EventStore<A>,
    projector: Arc<Projector>,
}

impl<A> Commands<A>
where
    A: Aggregate + 'static,
    A::Command: Clone,
{
    /// Commands appended through `writer`, followed by a catch-up of `projector`.
    pub fn new(
        pool: SqlitePool,
        writer: &GroupCommit,
        projector: Arc<Projector>,
        services: A::Services,
    ) -> Self {
        Self {
            cqrs: Arc::new(cqrs_for(pool.clone(), writer, None, services)),
            store: event_store(pool, writer),
            projector,
        }
    }

    /// The framework itself, for the rare caller that handles races on its own (invoice
    /// numbering proposes a new number on each lost race).
    pub fn cqrs(&self) -> &Cqrs<A> {
        &self.cqrs
    }

    /// Runs `command` on aggregate `id`, retrying lost races, then catches the read models up.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
    ) -> Result<(), AggregateError<A::Error>> {
        let outcome = execute_with_retry(&self.cqrs, id, command, metadata).await;
        self.catch_up().await;
        outcome
    }

    /// The aggregate as the log has it now (a fresh one when it has no events).
    pub async fn load(&self, id: &str) -> Result<A, AggregateError<A::Error>> {
        Ok(self.store.load_aggregate(id).await?.aggregate)
    }

    /// Applies what was committed to the read models. A failure loses nothing: the events are
    /// committed and the projector's next run applies them from its checkpoint.
    pub async fn catch_up(&self) {
        if let Err(error) = self.projector.catch_up().await {
            tracing::warn!(%error, aggregate_type = A::TYPE, "projector catch-up after a command failed; will retry");
        }
    }
}

/// Runs a command, retrying with a short random pause while a concurrent command on the same
/// aggregate commits first: the aggregate then decides again on the winner's events.
pub async fn execute_with_retry<A: Aggregate>(
    cqrs: &Cqrs<A>,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<(), AggregateError<A::Error>>
where
    A::Command: Clone,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match cqrs
            .execute_with_metadata(aggregate_id, command.clone(), metadata.clone())
            .await
        {
            Err(AggregateError::AggregateConflict) if attempt < ATTEMPTS => {
                // Spread the losers out so they do not collide again in lockstep.
                let pause = rand::rng().random_range(0..=attempt.min(8) * 250);
                tokio::time::sleep(Duration::from_micros(u64::from(pause))).await;
            }
            outcome => return outcome,
        }
    }
}

/// Metadata stored with each event of a command: where it came from.
pub type CommandMetadata = HashMap<String, String>;

/// Metadata stored with each event: where the command came from (an API request id, or the
/// Stripe event a webhook delivered).
pub fn command_metadata(request_id: Option<&str>) -> CommandMetadata {
    request_id
        .map(|id| HashMap::from([("request_id".to_owned(), id.to_owned())]))
        .unwrap_or_default()
}

/// Metadata of a command caused by a provider event.
pub fn provider_event_metadata(stripe_event_id: &str) -> HashMap<String, String> {
    HashMap::from([("stripe_event_id".to_owned(), stripe_event_id.to_owned())])
}
