//! The projector's rebuilds beside the live views: [`Projector::rebuild`] swaps rebuilt views
//! in (once [`Projector::claim`] has claimed them), [`Projector::verify`] only compares them
//! with the live ones.

use std::sync::Arc;

use crate::drift::{self, Drift};
use crate::projector::Projection;
use crate::rebuild_claim::RebuildClaim;
use crate::shadow::{self, Progress, RebuildReport, Shadow};
use crate::{ProjectionError, Projector};

/// How often `verify` looks for the live views at one position before giving up.
const VERIFY_ATTEMPTS: u32 = 100;

impl Projector {
    /// The names of the views this projector keeps (projections with tables), in order.
    pub fn view_names(&self) -> Vec<&'static str> {
        self.views().map(|projection| projection.name()).collect()
    }

    /// The views named (all of them when `names` is empty). A projection without tables (the
    /// mailer, which sends e-mail) is not a view: rebuilding it would act again.
    pub fn select(&self, names: &[String]) -> Result<Vec<Arc<dyn Projection>>, ProjectionError> {
        if names.is_empty() {
            return Ok(self.views().cloned().collect());
        }
        names
            .iter()
            .map(|name| {
                self.views()
                    .find(|projection| projection.name() == name)
                    .cloned()
                    .ok_or_else(|| ProjectionError::UnknownProjection(name.clone()))
            })
            .collect()
    }

    fn views(&self) -> impl Iterator<Item = &Arc<dyn Projection>> {
        self.projections
            .iter()
            .filter(|projection| !projection.tables().is_empty())
    }

    /// Claims `selected` for a rebuild: refused with [`ProjectionError::RebuildRunning`] while
    /// another rebuild of one of them runs, here or in another process (see [`rebuild_claim`]).
    ///
    /// [`rebuild_claim`]: crate::rebuild_claim
    pub fn claim(
        &self,
        selected: Vec<Arc<dyn Projection>>,
    ) -> Result<RebuildClaim, ProjectionError> {
        RebuildClaim::take(&self.pool, selected)
    }

    /// Rebuilds the claimed views from the log beside the live views and swaps them in with
    /// one short write transaction; writers and readers go on meanwhile (see [`shadow`]).
    pub async fn rebuild(
        &self,
        claim: &RebuildClaim,
        on_progress: Progress<'_>,
    ) -> Result<RebuildReport, ProjectionError> {
        shadow::rebuild(
            &self.pool,
            &self.gate,
            &claim.projections,
            self.batch_size,
            on_progress,
        )
        .await
    }

    /// Rebuilds `selected` beside the live views and returns every row that differs from the
    /// live view at the same position; the live views are left as they are.
    pub async fn verify(
        &self,
        selected: &[Arc<dyn Projection>],
        on_progress: Progress<'_>,
    ) -> Result<Vec<Drift>, ProjectionError> {
        self.catch_up().await?;
        let mut shadow = Shadow::open(&self.pool, selected, self.batch_size).await?;
        shadow.fill(on_progress).await?;
        for _ in 0..VERIFY_ATTEMPTS {
            // One read transaction: the checkpoints, the log and the live rows agree. It writes
            // only the shadow's catch-up, to TEMP, which has no rollback journal (`shadow`):
            // committed, so the shadow's rows stay those of its position.
            sqlx::query("BEGIN").execute(&mut shadow.conn).await?;
            let compared = compare_at_live_checkpoint(&mut shadow).await;
            let end = if compared.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            sqlx::query(end).execute(&mut shadow.conn).await?;
            if let Some(drifts) = compared? {
                shadow.close().await?;
                return Ok(drifts);
            }
            // The live views stand behind the shadow (or apart): bring them up and look again.
            self.catch_up().await?;
        }
        Err(ProjectionError::Unsettled)
    }
}

/// Catches the shadow up to the live views' common checkpoint and compares every table; `None`
/// when the live views are not at one position at or past the shadow's.
async fn compare_at_live_checkpoint(
    shadow: &mut Shadow<'_>,
) -> Result<Option<Vec<Drift>>, ProjectionError> {
    let mut checkpoints = Vec::new();
    for projection in shadow.projections {
        let checkpoint: Option<i64> =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = ?")
                .bind(projection.name())
                .fetch_optional(&mut shadow.conn)
                .await?;
        checkpoints.push(checkpoint.unwrap_or(0));
    }
    let Some(&live) = checkpoints.first() else {
        return Ok(Some(Vec::new()));
    };
    if live < shadow.position || checkpoints.iter().any(|&other| other != live) {
        return Ok(None);
    }
    shadow.apply_until(live).await?;
    let mut drifts = Vec::new();
    for schema in &shadow.schemas {
        drifts.extend(drift::compare(&mut shadow.conn, schema.table).await?);
    }
    Ok(Some(drifts))
}
