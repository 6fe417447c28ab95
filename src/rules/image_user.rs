//! The user an image runs as: the base image's own non-root user, a user's home, and the
//! numeric `USER` of a Dockerfile. Resolve checks a declared `user` against the base
//! user; the Dockerfile renderer creates and switches to it.

use crate::model::User;

/// The non-root user the base runtime stage creates.
pub(crate) const BASE_USER: &str = "app";

/// The home of a user, created writable for it.
pub(crate) fn home(name: &str) -> String {
    format!("/home/{name}")
}

/// The user an image runs as, for the Dockerfile `USER` (numeric, so Kubernetes'
/// `runAsNonRoot` can verify it).
pub(crate) fn user_spec(user: &User) -> Option<String> {
    match user {
        User::Root | User::Inherited => None,
        User::NonRoot { uid, .. } => Some(format!("{uid}:{uid}")),
    }
}
