//! Credentials: signed tokens and the sessions they open, password hashing, the
//! failed-login delays, and password reset tokens. `store` holds this layer's SQL.

pub mod jwt;
pub mod lockout;
pub mod password;
pub mod reset;
pub mod sessions;
pub mod store;

pub use jwt::{Claims, JwtKeys, TokenError};
pub use lockout::{LockoutPolicy, LoginThrottle};
pub use password::{PasswordHasher, PlainPassword};
pub use reset::{ResetClaim, ResetTokens};
pub use sessions::Sessions;
