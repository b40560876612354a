//! The duplicate check at registration: the seeds forbid 重复督查、多头督查 [002 Art.69], so a
//! new item that looks like an open one for the same unit gets a warning (not a block: the
//! office may have good reason).

use std::collections::{HashMap, HashSet};

/// Character-bigram Jaccard similarity of two titles, ignoring punctuation and spaces.
/// Chinese titles have no word boundaries; bigrams catch "推进老旧小区改造" vs
/// "关于推进老旧小区改造工作" without a segmenter.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> HashSet<(char, char)> {
        let chars: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return if normalise(a) == normalise(b) && !normalise(a).is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let shared = ga.intersection(&gb).count() as f64;
    shared / (ga.len() + gb.len()) as f64 * 2.0
}

/// Titles indexed by their bigrams, for checking many titles against many (an import of
/// thousands of rows against thousands of open items): each look-up counts shared bigrams
/// only over the titles that share one, and gives what [`title_similarity`] would.
#[derive(Debug, Default)]
pub struct TitleIndex {
    postings: HashMap<(char, char), Vec<u32>>,
    /// Each title's distinct bigrams, and the title itself where it has none.
    sizes: Vec<usize>,
    bare: Vec<String>,
}

fn bigrams(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

impl TitleIndex {
    /// Adds a title; its number is the count of titles before it.
    pub fn add(&mut self, title: &str) -> usize {
        let number = self.sizes.len();
        let grams = bigrams(title);
        let key = u32::try_from(number).unwrap_or(u32::MAX);
        for gram in &grams {
            self.postings.entry(*gram).or_default().push(key);
        }
        self.sizes.push(grams.len());
        self.bare.push(if grams.is_empty() {
            normalise(title)
        } else {
            String::new()
        });
        number
    }

    /// Every indexed title at least `threshold` similar to `title`, with its similarity.
    pub fn similar(&self, title: &str, threshold: f64) -> Vec<(usize, f64)> {
        let grams = bigrams(title);
        if grams.is_empty() {
            let bare = normalise(title);
            return self
                .bare
                .iter()
                .enumerate()
                .filter(|(n, b)| !bare.is_empty() && **b == bare && self.sizes[*n] == 0)
                .map(|(n, _)| (n, 1.0))
                .collect();
        }
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for gram in &grams {
            for number in self.postings.get(gram).into_iter().flatten() {
                *shared.entry(*number).or_default() += 1;
            }
        }
        let mut found: Vec<(usize, f64)> = shared
            .into_iter()
            .map(|(n, count)| {
                let n = n as usize;
                (n, count as f64 * 2.0 / (grams.len() + self.sizes[n]) as f64)
            })
            .filter(|(_, similarity)| *similarity >= threshold)
            .collect();
        found.sort_by_key(|(n, _)| *n);
        found
    }
}

fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Titles at least this similar (Dice coefficient on bigrams) are flagged.
pub const SIMILAR_TITLE_THRESHOLD: f64 = 0.6;

/// Same source reference (批示件号, 纪要号, 文号), ignoring spaces and bracket styles.
pub fn same_source_reference(a: &str, b: &str) -> bool {
    let canon = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '[' | '【' | '(' | '（' => '〔',
                ']' | '】' | ')' | '）' => '〕',
                other => other,
            })
            .collect()
    };
    let (a, b) = (canon(a), canon(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_identical_titles_are_similar_and_unrelated_ones_are_not() {
        let a = "关于推进老旧小区改造工作的批示";
        assert!(title_similarity(a, "推进老旧小区改造工作") >= SIMILAR_TITLE_THRESHOLD);
        assert!(title_similarity(a, "防汛物资储备检查") < 0.2);
        assert_eq!(title_similarity("", ""), 0.0);
    }

    #[test]
    fn the_index_finds_what_pairwise_similarity_finds() {
        let titles = [
            "关于推进老旧小区改造工作的批示",
            "防汛物资储备检查",
            "推进老旧小区改造工作",
            "甲",
            "",
        ];
        let mut index = TitleIndex::default();
        for title in titles {
            index.add(title);
        }
        for probe in ["推进老旧小区改造", "防汛物资储备检查工作", "甲", "乙", ""]
        {
            for threshold in [0.3, SIMILAR_TITLE_THRESHOLD] {
                let expected: Vec<usize> = titles
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| title_similarity(probe, t) >= threshold)
                    .map(|(n, _)| n)
                    .collect();
                let found: Vec<usize> = index
                    .similar(probe, threshold)
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                assert_eq!(found, expected, "{probe} at {threshold}");
            }
        }
    }

    #[test]
    fn source_references_match_across_bracket_styles() {
        assert!(same_source_reference(
            "区长批示〔2026〕15号",
            "区长批示[2026]15号"
        ));
        assert!(!same_source_reference("", ""));
        assert!(!same_source_reference("纪要〔2026〕3号", "纪要〔2026〕4号"));
    }
}
