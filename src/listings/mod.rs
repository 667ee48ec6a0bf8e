//! The public directory listing a partner asks for (PRODUCT.md §7): the form,
//! its logo and slug, the staff review, and the public directory served from
//! memory.

pub mod directory;
pub mod emails;
pub mod form;
pub mod logo;
pub mod routes;
pub mod slug;
pub mod store;
pub mod version;

pub use directory::Directory;
pub use form::{ListingDraft, ListingInput};
pub use logo::{Logo, LogoKind, LogoProblem, MAX_LOGO_BYTES, MAX_LOGO_SIDE};
pub use slug::slugify;
