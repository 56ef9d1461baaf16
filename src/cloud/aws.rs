//! The real AWS SDK adapter behind [`super::CloudRead`] and [`super::CloudWrite`].
