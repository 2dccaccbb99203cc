//! The projections' health, as the operators' API shows it.

use projections::{ProjectionHealth, Projector};

use crate::error::AppError;

/// Checkpoint, lag, rows and last rebuild of every projection `projector` keeps, now.
pub async fn projection_health(projector: &Projector) -> Result<Vec<ProjectionHealth>, AppError> {
    projector
        .health(chrono::Utc::now())
        .await
        .map_err(AppError::internal)
}
