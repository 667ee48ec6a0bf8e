//! The public directory listing a partner asks for: its logo and its slug.

pub mod logo;
pub mod slug;

pub use logo::{Logo, LogoKind, LogoProblem, MAX_LOGO_BYTES, MAX_LOGO_SIDE};
pub use slug::slugify;
