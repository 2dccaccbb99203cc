//! Credentials: signed tokens and the sessions they open, password hashing, and the
//! failed-login delays. `store` holds this layer's SQL.

pub mod jwt;
pub mod lockout;
pub mod password;
pub mod sessions;
pub mod store;

pub use jwt::{Claims, JwtKeys, TokenError};
pub use lockout::{LockoutPolicy, LoginThrottle};
pub use password::{PasswordHasher, PlainPassword};
pub use sessions::Sessions;
