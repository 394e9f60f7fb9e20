//! A large set of short ids read from the database (what the sweep will work through: a
//! million Install IDs after a restore), held in two allocations rather than a `String`
//! each. A million small strings took about 80 MB and left the heap that much larger
//! after the sweep had dropped them (120 MiB of anonymous memory against 13 at the start,
//! docs/benchmarks.md); here they take about a third of it, in allocations large enough
//! that the allocator gives them back to the system when the set is dropped.

/// Ids in the order added (`sorted` sorts them and drops repeats).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IdSet {
    /// The ids, one after another.
    text: String,
    /// Where each id ends in `text`.
    ends: Vec<usize>,
}

impl IdSet {
    /// The first column of each row, a text (a NULL or a number is a corrupt row).
    pub(super) fn read(mut rows: rusqlite::Rows<'_>) -> rusqlite::Result<IdSet> {
        let mut ids = IdSet::default();
        while let Some(r) = rows.next()? {
            ids.push(r.get_ref(0)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
            })?);
        }
        Ok(ids)
    }

    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The same ids sorted, each once.
    pub fn sorted(&self) -> IdSet {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_unstable_by_key(|&i| self.get(i));
        order.dedup_by_key(|i| self.get(*i));
        let mut out = IdSet {
            text: String::with_capacity(self.text.len()),
            ends: Vec::with_capacity(order.len()),
        };
        for i in order {
            out.push(self.get(i));
        }
        out
    }

    /// The ids `n` at a time, each batch owned (to hand to a job on another thread).
    pub fn batches(&self, n: usize) -> impl Iterator<Item = Vec<String>> {
        let n = n.max(1);
        (0..self.len()).step_by(n).map(move |from| {
            (from..(from + n).min(self.len()))
                .map(|i| self.get(i).to_owned())
                .collect()
        })
    }
}

impl<'a> Extend<&'a str> for IdSet {
    fn extend<I: IntoIterator<Item = &'a str>>(&mut self, ids: I) {
        for id in ids {
            self.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(ids: &[&str]) -> IdSet {
        let mut set = IdSet::default();
        set.extend(ids.iter().copied());
        set
    }

    #[test]
    fn ids_come_back_as_added_then_sorted_once_each() {
        let set = of(&["b", "", "a-long-id", "b", "a"]);
        assert_eq!(set.len(), 5);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            ["b", "", "a-long-id", "b", "a"]
        );
        let sorted = set.sorted();
        assert_eq!(
            sorted.iter().collect::<Vec<_>>(),
            ["", "a", "a-long-id", "b"]
        );
        assert!(IdSet::default().sorted().is_empty());
    }

    #[test]
    fn batches_cover_every_id_once_in_order() {
        let set = of(&["1", "2", "3", "4", "5"]);
        let batches: Vec<Vec<String>> = set.batches(2).collect();
        assert_eq!(batches, [vec!["1", "2"], vec!["3", "4"], vec!["5"]]);
        assert_eq!(set.batches(0).count(), 5, "a batch holds one id at least");
        assert_eq!(IdSet::default().batches(3).count(), 0);
    }
}
