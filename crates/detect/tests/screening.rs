//! Integration tests of the public API: whole posts in, explained screenings out.

use patroli_detect::{Category, Engine, EntityKind, Lexicon, Post, ReasonKind, Severity};

fn engine() -> Engine {
    Engine::builtin()
}

#[test]
fn explained_screening_snapshot() {
    let text = "Ready tr4m4d0l 50mg isi 10 butir, tanpa resep, kirim rahasia. WA 0812-7741-3309";
    let s = engine().screen(&Post {
        text,
        title: Some("Obat sakit gigi"),
        ..Post::default()
    });
    for r in &s.reasons {
        let src = if r.field == patroli_detect::Field::Title {
            "Obat sakit gigi"
        } else {
            text
        };
        assert_eq!(
            &src[r.start..r.end],
            r.matched,
            "span and matched text agree for {}",
            r.rule
        );
    }
    insta::assert_json_snapshot!(s, { ".lexicon_version" => "[version]" });
}

#[test]
fn every_category_has_a_positive_and_its_hard_negative() {
    let e = engine();
    let cases: &[(&str, Option<Category>)] = &[
        (
            "Sedia tembakau gorila & sinte, pahe 5gr 100rb, kirim aman seluruh Indonesia",
            Some(Category::Drugs),
        ),
        (
            "Garam kristal dan gula kristal putih 1 kg, ready stok grosir",
            None,
        ),
        (
            "Jual obat pelangsing ampuh turun 10 kg seminggu, tanpa BPOM, aman kok kak. Order WA",
            Some(Category::UnregisteredProducts),
        ),
        (
            "Jamu kunyit asam, terdaftar BPOM POM TR182614921, halal MUI",
            None,
        ),
        (
            "Lowongan admin chat di Phnom Penh gaji 15 juta, tanpa pengalaman, visa turis, tiket ditanggung",
            Some(Category::TraffickingRecruitment),
        ),
        (
            "KBRI Phnom Penh memulangkan 20 WNI korban online scam, waspada lowongan palsu",
            None,
        ),
        (
            "avail malam ini, VCS 150k, open BO ST 300 LT 700 area Jaksel",
            Some(Category::SexualExploitation),
        ),
        (
            "Pijat refleksi keluarga & baby spa, terapis bersertifikat, home service",
            None,
        ),
    ];
    for (text, want) in cases {
        let s = e.screen(&Post {
            text,
            ..Post::default()
        });
        match want {
            Some(c) => assert!(
                s.categories.contains(c),
                "expected {c} for {text:?}: {s:#?}"
            ),
            None => assert!(!s.flagged, "expected clean for {text:?}: {s:#?}"),
        }
    }
}

#[test]
fn obfuscation_is_seen_through() {
    let e = engine();
    for text in [
        "jual t r a m a d o l murah, tanpa resep",
        "jual trаmаdоl murah, tanpa resep",
        "jual ｔｒａｍａｄｏｌ murah, tanpa resep",
        "jual tra\u{200b}ma\u{200b}dol murah, tanpa resep",
        "jual traaamadoool murah, tanpa resep",
        "jual tr4m4d0l murah, tanpa resep",
    ] {
        let s = e.screen(&Post {
            text,
            ..Post::default()
        });
        assert!(s.categories.contains(&Category::Drugs), "{text:?}: {s:#?}");
        let r = s
            .reasons
            .iter()
            .find(|r| r.rule == "drugs.tramadol.name")
            .expect("tramadol reason");
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        assert_eq!(&text[r.start..r.end], r.matched);
    }
}

#[test]
fn minor_signal_is_critical() {
    let s = engine().screen(&Post {
        text: "open BO, masih 16 thn, ST 500 free room",
        ..Post::default()
    });
    assert_eq!(s.severity, Severity::Critical);
    assert!(s.reasons.iter().any(|r| r.kind == ReasonKind::Minor));
}

#[test]
fn entities_are_extracted_from_posts() {
    let s = engine().screen(&Post {
        text: "Transfer BCA 1234567890 a.n. Budi, konfirmasi wa.me/6281277413309 atau t.me/rekrut_cepat",
        ..Post::default()
    });
    let kinds: Vec<EntityKind> = s.entities.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EntityKind::BankAccount));
    assert!(kinds.contains(&EntityKind::Whatsapp));
    assert!(kinds.contains(&EntityKind::Telegram));
}

#[test]
fn a_caller_lexicon_extends_the_builtin_one() {
    let mut lex = Lexicon::builtin();
    let extra = Lexicon::parse(&[(
        "lokal.toml".to_string(),
        "version = \"lokal-1\"\ncategory = \"drugs\"\n[[term]]\nid = \"lokal.kode\"\nvariants = [\"pil zombie\"]\nweight = 1.2\nnote = \"kode lokal\"\n"
            .to_string(),
    )])
    .unwrap();
    lex.extend(extra);
    assert!(lex.check().is_empty());
    let e = Engine::new(lex).unwrap();
    let s = e.screen(&Post {
        text: "ada pil zombie lagi",
        ..Post::default()
    });
    assert!(s.categories.contains(&Category::Drugs));
    assert!(s.lexicon_version.ends_with("+lokal-1"));
}

mod fuzz {
    use patroli_detect::{Engine, Field, Post};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the input, every span in a screening is in bounds, on char boundaries and
        /// matches the text it claims, and scores stay in [0, 1].
        #[test]
        fn screening_spans_are_valid(
            text in "(\\PC|[ .\\-'\"0-9]|ll|st |lt |open bo|tr4m4d0l|gaji |usd|butir|💊|\u{200b}){0,80}",
            title in proptest::option::of("\\PC{0,30}"),
        ) {
            let engine = Engine::builtin();
            let s = engine.screen(&Post { text: &text, title: title.as_deref(), ..Post::default() });
            for r in &s.reasons {
                let src = if r.field == Field::Title { title.as_deref().unwrap_or("") } else { text.as_str() };
                prop_assert!(r.start <= r.end && r.end <= src.len());
                prop_assert!(src.is_char_boundary(r.start) && src.is_char_boundary(r.end));
                if r.end > r.start {
                    prop_assert_eq!(&src[r.start..r.end], r.matched.as_str());
                }
            }
            for e in &s.entities {
                let src = if e.field == Field::Title { title.as_deref().unwrap_or("") } else { text.as_str() };
                prop_assert!(e.start < e.end && e.end <= src.len());
                prop_assert!(src.is_char_boundary(e.start) && src.is_char_boundary(e.end));
            }
            for v in s.scores.values() {
                prop_assert!((0.0..=1.0).contains(v));
            }
        }
    }
}
