//! What makes a search over ten thousand listings cheap: the entries of
//! every (partner type, stage) filter listed in advance, and the words of
//! every name sorted, so each word of a search is a binary search.

use crate::applications::form::{PARTNER_TYPES, STAGES};

use super::snapshot::{Entry, fold};

/// Position of a value in `choices`, counting from 1; 0 for none or unknown.
pub fn code(choices: &[(&str, &str)], value: &str) -> usize {
    choices
        .iter()
        .position(|(v, _)| *v == value)
        .map_or(0, |i| i + 1)
}

/// Lowercase words without accents: "Société Générale, Inc." → societe,
/// generale, inc.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Default)]
pub struct Index {
    /// Every word of every name with its entry, sorted.
    words: Vec<(Box<str>, u32)>,
    /// Entries in display order for each (type code, stage code), 0 = any.
    by_filter: Vec<Vec<u32>>,
}

const STAGE_CODES: usize = STAGES.len() + 1;

impl Index {
    /// `entries` in display order.
    pub fn build(entries: &[Entry]) -> Self {
        let mut words = Vec::new();
        let mut by_filter = vec![Vec::new(); (PARTNER_TYPES.len() + 1) * STAGE_CODES];
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            let mut own = words_of(e);
            own.sort();
            own.dedup();
            words.extend(own.into_iter().map(|w| (w.into_boxed_str(), i)));
            let type_code = e
                .partner_type
                .as_deref()
                .map_or(0, |t| code(&PARTNER_TYPES, t));
            let mut stage_codes: Vec<usize> = e
                .stages
                .iter()
                .map(|s| code(&STAGES, s))
                .filter(|&c| c > 0)
                .collect();
            stage_codes.push(0);
            stage_codes.dedup();
            for t in if type_code == 0 {
                vec![0]
            } else {
                vec![0, type_code]
            } {
                for &s in &stage_codes {
                    by_filter[t * STAGE_CODES + s].push(i);
                }
            }
        }
        words.sort();
        Self { words, by_filter }
    }

    /// Entries of a type and a stage (codes; 0 = any), in display order.
    pub fn filtered(&self, type_code: usize, stage_code: usize) -> &[u32] {
        self.by_filter
            .get(type_code * STAGE_CODES + stage_code)
            .map_or(&[], Vec::as_slice)
    }

    /// Entries with a word starting with `prefix`, in display order.
    pub fn starting_with(&self, prefix: &str) -> Vec<u32> {
        let from = self.words.partition_point(|(w, _)| w.as_ref() < prefix);
        let mut found: Vec<u32> = self.words[from..]
            .iter()
            .take_while(|(w, _)| w.starts_with(prefix))
            .map(|&(_, i)| i)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

fn words_of(e: &Entry) -> Vec<String> {
    let mut all = words(&e.display_name);
    all.extend(words(&e.company_name));
    all
}

/// The elements of two sorted lists found in both.
pub fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, partner_type: &str, stages: &[&str]) -> Entry {
        Entry {
            display_name: name.into(),
            company_name: name.into(),
            partner_type: Some(partner_type.into()),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            ..Entry::default()
        }
    }

    #[test]
    fn words_are_folded_and_split_on_anything_but_letters_and_digits() {
        assert_eq!(
            words("Société Générale, Inc. (EU)"),
            ["societe", "generale", "inc", "eu"]
        );
        assert_eq!(words("DevSecOps__2024"), ["devsecops", "2024"]);
        assert!(words("!!! ").is_empty());
    }

    #[test]
    fn filters_list_their_entries_in_order() {
        let index = Index::build(&[
            entry("A", "technology", &["plan", "secure"]),
            entry("B", "cloud", &["secure"]),
            entry("C", "technology", &["deploy"]),
        ]);
        let technology = code(&PARTNER_TYPES, "technology");
        let secure = code(&STAGES, "secure");
        assert_eq!(index.filtered(0, 0), [0, 1, 2]);
        assert_eq!(index.filtered(technology, 0), [0, 2]);
        assert_eq!(index.filtered(0, secure), [0, 1]);
        assert_eq!(index.filtered(technology, secure), [0]);
    }

    #[test]
    fn words_are_found_by_their_beginning() {
        let index = Index::build(&[
            entry("Acme Security", "technology", &[]),
            entry("Acmes Cloud", "cloud", &[]),
        ]);
        assert_eq!(index.starting_with("acme"), [0, 1]);
        assert_eq!(index.starting_with("acmes"), [1]);
        assert_eq!(index.starting_with("sec"), [0]);
        assert!(index.starting_with("curity").is_empty());
        assert_eq!(intersect(&[0, 2, 5, 9], &[1, 2, 9]), [2, 9]);
    }
}
