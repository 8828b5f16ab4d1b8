//! Every string the web UI shows, in Bahasa Indonesia (default) and English, in one table.
//! A `Msg` variant without both translations does not compile.

use patroli_core::{Category, FindingStatus, Role, Severity, VerdictKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn t(self, m: Msg) -> &'static str {
        let (id, en) = m.texts();
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    pub fn category(self, c: Category) -> &'static str {
        match self {
            Lang::Id => c.label_id(),
            Lang::En => c.label_en(),
        }
    }

    pub fn severity(self, s: Severity) -> &'static str {
        self.t(match s {
            Severity::None => Msg::SeverityNone,
            Severity::Low => Msg::SeverityLow,
            Severity::Medium => Msg::SeverityMedium,
            Severity::High => Msg::SeverityHigh,
            Severity::Critical => Msg::SeverityCritical,
        })
    }

    pub fn status(self, s: FindingStatus) -> &'static str {
        self.t(match s {
            FindingStatus::Pending => Msg::StatusPending,
            FindingStatus::Confirmed => Msg::StatusConfirmed,
            FindingStatus::Dismissed => Msg::StatusDismissed,
        })
    }

    pub fn verdict(self, v: VerdictKind) -> &'static str {
        self.status(v.into())
    }

    pub fn role(self, r: Role) -> &'static str {
        self.t(match r {
            Role::Admin => Msg::RoleAdmin,
            Role::Analyst => Msg::RoleAnalyst,
            Role::Investigator => Msg::RoleInvestigator,
            Role::Viewer => Msg::RoleViewer,
            Role::Platform => Msg::RolePlatform,
        })
    }
}

macro_rules! messages {
    ($($variant:ident => ($id:literal, $en:literal)),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg { $($variant),* }

        impl Msg {
            #[cfg(test)]
            pub const ALL: &'static [Msg] = &[$(Msg::$variant),*];
            fn texts(self) -> (&'static str, &'static str) {
                match self { $(Msg::$variant => ($id, $en)),* }
            }
        }
    };
}

messages! {
    AppName => ("Patroli", "Patroli"),
    LoginTitle => ("Masuk", "Log in"),
    Username => ("Nama pengguna", "User name"),
    Password => ("Kata sandi", "Password"),
    LoginButton => ("Masuk", "Log in"),
    LoginFailed => ("Nama pengguna atau kata sandi salah.", "Unknown user name or wrong password."),
    LoginLimited => ("Terlalu banyak percobaan. Tunggu satu menit.", "Too many attempts. Wait a minute."),
    Logout => ("Keluar", "Log out"),
    Queue => ("Antrian tinjauan", "Review queue"),
    Admin => ("Admin", "Admin"),
    Filter => ("Saring", "Filter"),
    Search => ("Cari teks", "Search text"),
    AnyCategory => ("Semua kategori", "All categories"),
    AnyStatus => ("Semua status", "Any status"),
    Platform => ("Platform", "Platform"),
    Province => ("Provinsi / kode wilayah", "Province / region code"),
    From => ("Dari tanggal", "From date"),
    To => ("Sampai tanggal", "To date"),
    Category => ("Kategori", "Category"),
    Severity => ("Tingkat", "Severity"),
    Score => ("Skor", "Score"),
    Status => ("Status", "Status"),
    Account => ("Akun", "Account"),
    Region => ("Wilayah", "Region"),
    Text => ("Teks", "Text"),
    FirstSeen => ("Pertama terlihat", "First seen"),
    Empty => ("Tidak ada unggahan yang cocok.", "No matching posts."),
    Total => ("Jumlah", "Total"),
    Previous => ("Sebelumnya", "Previous"),
    Next => ("Berikutnya", "Next"),
    KeyboardHelp => ("Tombol: j/k pindah, x pilih, o buka, c konfirmasi, d tolak.", "Keys: j/k move, x select, o open, c confirm, d dismiss."),
    Reason => ("Alasan", "Reason"),
    Confirm => ("Konfirmasi", "Confirm"),
    Dismiss => ("Tolak", "Dismiss"),
    ConfirmSelected => ("Konfirmasi yang dipilih", "Confirm selected"),
    DismissSelected => ("Tolak yang dipilih", "Dismiss selected"),
    PostTitle => ("Unggahan", "Post"),
    OriginalText => ("Teks asli (bagian yang cocok disorot)", "Original text (matched spans highlighted)"),
    Reasons => ("Alasan penandaan", "Why it was flagged"),
    Entities => ("Entitas", "Entities"),
    OtherPosts => ("Unggahan lain dari akun ini", "Other posts by this account"),
    Versions => ("Riwayat versi", "Version history"),
    Verdicts => ("Riwayat keputusan", "Verdict history"),
    NoVerdicts => ("Belum ada keputusan.", "No verdict yet."),
    Decide => ("Keputusan", "Decision"),
    Link => ("Tautan", "Link"),
    Price => ("Harga", "Price"),
    Location => ("Lokasi", "Location"),
    By => ("oleh", "by"),
    None => ("(tidak ada)", "(none)"),
    Users => ("Pengguna", "Users"),
    Tokens => ("Token API", "API tokens"),
    CreateUser => ("Tambah pengguna", "Add user"),
    CreateToken => ("Buat token", "Create token"),
    Revoke => ("Cabut", "Revoke"),
    Revoked => ("Dicabut", "Revoked"),
    Role => ("Peran", "Role"),
    Agency => ("Instansi", "Agency"),
    RegionScope => ("Cakupan wilayah (kosong = nasional)", "Region scope (empty = national)"),
    Label => ("Label", "Label"),
    NewTokenShownOnce => ("Token baru (hanya ditampilkan sekali):", "New token (shown only once):"),
    Disabled => ("Nonaktif", "Disabled"),
    Disable => ("Nonaktifkan", "Disable"),
    Enable => ("Aktifkan", "Enable"),
    Created => ("Dibuat", "Created"),
    ErrorTitle => ("Terjadi kesalahan", "Something went wrong"),
    BackToQueue => ("Kembali ke antrian", "Back to the queue"),
    SeverityNone => ("tidak ada", "none"),
    SeverityLow => ("rendah", "low"),
    SeverityMedium => ("sedang", "medium"),
    SeverityHigh => ("tinggi", "high"),
    SeverityCritical => ("kritis", "critical"),
    StatusPending => ("menunggu", "pending"),
    StatusConfirmed => ("dikonfirmasi", "confirmed"),
    StatusDismissed => ("ditolak", "dismissed"),
    RoleAdmin => ("admin", "admin"),
    RoleAnalyst => ("analis", "analyst"),
    RoleInvestigator => ("penyidik", "investigator"),
    RoleViewer => ("pemantau", "viewer"),
    RolePlatform => ("platform", "platform"),
    Networks => ("Jaringan", "Networks"),
    Statistics => ("Statistik", "Statistics"),
    Language => ("English", "Bahasa Indonesia"),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages() {
        for m in Msg::ALL {
            assert!(!Lang::Id.t(*m).is_empty(), "{m:?}");
            assert!(!Lang::En.t(*m).is_empty(), "{m:?}");
        }
        assert_eq!(Lang::Id.t(Msg::Queue), "Antrian tinjauan");
        assert_eq!(Lang::En.t(Msg::Queue), "Review queue");
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
