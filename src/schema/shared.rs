//! Copy-on-write values, so that a snapshot of the catalog costs a few
//! reference counts rather than a copy of every table.
//!
//! The linter keeps the schema as it was before each migration next to the
//! schema it goes on replaying into, and replays down files on a copy of the
//! schema after the up. With [`Shared`] those copies share everything until
//! one of them changes: a change copies only the map or table it touches.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A value shared between catalog snapshots. Reading goes through
/// [`Deref`]; writing through [`DerefMut`] first makes the value this
/// snapshot's own (copying it if another snapshot still holds it).
#[derive(Default, PartialEq)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

impl<T: Clone> Shared<T> {
    /// The value, copied only when another snapshot holds it too.
    pub fn into_inner(self) -> T {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;

    #[test]
    fn a_change_leaves_other_snapshots_alone() {
        let mut a = Shared::new(vec![1, 2]);
        let b = a.clone();
        a.push(3);
        assert_eq!(*a, vec![1, 2, 3]);
        assert_eq!(*b, vec![1, 2]);
    }

    #[test]
    fn an_unshared_value_is_changed_in_place() {
        let mut v = Vec::with_capacity(4);
        v.push(1);
        let mut a = Shared::new(v);
        let before = a.as_ptr();
        a.push(2);
        assert_eq!(a.as_ptr(), before, "no copy while nobody else holds it");
        assert_eq!(a.into_inner(), vec![1, 2]);
    }
}
