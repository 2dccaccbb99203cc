//! The command side of every aggregate, built over one writer and one projector.

use std::sync::Arc;

use projections::Projector;
use sqlx::SqlitePool;

use crate::store::group_commit::GroupCommit;
use crate::store::{self};
use crate::usecases::common::Commands;

/// Builds the command side of each aggregate over one writer and one projector.
pub(super) struct CommandsFactory<'a> {
    pub(super) pool: &'a SqlitePool,
    pub(super) writer: &'a GroupCommit,
    pub(super) projector: &'a Arc<Projector>,
}

impl CommandsFactory<'_> {
    pub(super) fn make<A>(&self) -> Commands<A>
    where
        A: cqrs_es::Aggregate<Services = ()> + 'static,
        A::Command: Clone,
    {
        Commands::new(self.pool.clone(), self.writer, self.projector.clone(), ())
    }

    /// A bare framework whose commits are not followed by a catch-up: for the webhook applier,
    /// whose worker catches the read models up once per round of events (`InboxWorker`).
    pub(super) fn cqrs_without_catch_up<A: cqrs_es::Aggregate<Services = ()> + 'static>(
        &self,
    ) -> store::Cqrs<A> {
        store::cqrs_for(self.pool.clone(), self.writer, None, ())
    }

    /// A bare framework whose commits are followed by a catch-up (for the reconciliation).
    pub(super) fn cqrs<A: cqrs_es::Aggregate<Services = ()> + 'static>(&self) -> store::Cqrs<A> {
        store::cqrs_for(
            self.pool.clone(),
            self.writer,
            Some(self.projector.clone()),
            (),
        )
    }
}
