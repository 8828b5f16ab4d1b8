#!/usr/bin/env python3
"""Write N synthetic posts (JSON Lines) for benchmarks, by recombining short phrase templates.

The phrases are our own, short and generic: this corpus measures speed and memory, not accuracy, so it
only needs the shape of real traffic (mostly clean marketplace and chat text, some suspicious posts in
each category, lengths from one line to a long caption, contact details, prices, obfuscation).
Each post carries `labels` (from the template family it was built from) so a peer model can be trained
on a second corpus made with another seed.

Usage: gen_corpus.py [--n 200000] [--seed 1] [--out FILE]   (stdout by default)
Python 3 standard library only.
"""

import argparse
import json
import random
import sys

PLATFORMS = ["tokopedia", "shopee", "instagram", "facebook", "tiktok", "x", "telegram", "whatsapp"]
CITIES = ["Jakarta Barat", "Surabaya", "Medan", "Makassar", "Tanjung Selor", "Kota Tarakan",
          "Balikpapan", "Bandung", "Kab. Bulungan", "Denpasar", "Pontianak", "Batam"]

CLEAN = [
    "kaos polos cotton combed size {size}, adem dipakai harian",
    "ready stok warna hitam putih navy, harga grosir per lusin",
    "celana chino slim fit ukuran {size}, bahan stretch tidak luntur",
    "beras pandan wangi {n} kg, pulen dan wangi, kirim hari ini",
    "telur ayam kampung isi {n} butir, segar dari peternak",
    "garam kristal untuk dapur dan es batu kristal buat usaha minuman",
    "tablet 10 inch second mulus, baterai awet, lengkap dus",
    "lampu LED strip RGB {n} meter, bisa pakai remote",
    "kopi kapsul isi {n}, cocok untuk mesin espresso rumahan",
    "jasa pijat bayi dan refleksi keluarga, terapis bersertifikat",
    "open order kue kering lebaran, nastar dan kastengel",
    "open trip Bromo akhir pekan, sudah termasuk jeep dan makan",
    "apotek kami melayani resep dokter, obat keras wajib resep",
    "dokter menjelaskan efek samping obat pereda nyeri, konsultasikan dulu",
    "BNN mengimbau warga melapor jika melihat peredaran narkoba",
    "polisi menangkap pengedar di pelabuhan, barang bukti disita",
    "lowongan resmi ke Korea lewat BP2MI, wajib lulus EPS-TOPIK",
    "magang bersertifikat di Jepang melalui lembaga terdaftar",
    "serum wajah terdaftar BPOM NA18171234567, aman untuk kulit sensitif",
    "jamu kunyit asam kemasan botol, izin edar lengkap",
    "manik manik kaca {n} butir untuk kerajinan gelang",
    "daun kelor kering untuk teh herbal, dipetik pagi",
    "obat nyamuk bakar isi {n}, wangi lavender",
    "film baru box office minggu ini, tiket sudah bisa dipesan",
    "transaksi ekspor pakai LC dari bank, dokumen lengkap",
    "halo kak, paket sudah dikirim ya, resi menyusul",
    "promo akhir bulan diskon {n} persen semua produk",
    "terima kasih sudah belanja, jangan lupa kasih bintang lima",
    "kajian rutin malam jumat di masjid, terbuka untuk umum",
    "info tabungan pendidikan anak, bunga ringan",
]

DRUGS = [
    "ready pil double L isi {n} butir, kirim aman disamarkan",
    "jual tramadol strip tanpa resep, COD area {city}",
    "dextro 1 box isi 1000 tab, harga miring",
    "tembakau gorila ready, paket pahe, minat DM",
    "s4bu ready bos, ambil di titik, bayar dulu",
    "inex happy five stok terbatas, packing rapi",
    "hexymer eximer ada kak, {n} strip langsung kirim",
    "obat penggugur kandungan cytotec asli, garansi berhasil",
    "pil koplo murah meriah, minat WA",
    "t r a m a d o l ready, isi {n} btr",
]

UNREGISTERED = [
    "krim pemutih racikan tanpa BPOM, putih permanen {n} hari",
    "kapsul pelangsing turun {n} kg seminggu, tanpa izin edar",
    "jamu kuat herbal campur sildenafil, tahan lama",
    "cream HN repack tanpa merk, hasil cepat",
    "obat diabetes herbal sembuh total, belum terdaftar BPOM",
    "suntik putih panggilan ke rumah, vitamin impor",
    "serum no BPOM kw mirip asli, harga reseller",
    "krim mengandung merkuri tapi aman kok kak",
]

TRAFFICKING = [
    "dicari admin sosmed kerja di Kamboja gaji {n} juta, tanpa pengalaman",
    "lowongan operator komputer di Myawaddy, cukup paspor",
    "kerja di luar negeri pakai visa turis, tiket dan mess ditanggung",
    "marketing online di Sihanoukville, berangkat minggu ini, tanpa lewat BP2MI",
    "butuh CS perusahaan IT luar negeri, gaji 2 digit, usia 18-35",
    "biaya medical dipotong gaji, paspor dipegang kantor",
]

SEXUAL = [
    "open BO malam ini area {city}, ST {p1} LT {p2}",
    "ready VCS kak, DP dulu no PHP",
    "cewek panggilan avail, free room, booking via admin",
    "pijat plus plus full service, terapis muda",
    "mami punya anak baru, bisa ke hotel",
    "avail LT malam minggu, tarif nego, no tipu",
]

CONTACTS = [
    "WA 08{a}-{b}-{c}",
    "hubungi 08{a}{b}{c}",
    "wa.me/628{a}{b}{c}",
    "telegram @{handle}",
    "DM ig @{handle}",
    "transfer BCA {acct} a.n. {name}",
    "bayar lewat DANA 08{a}{b}{c}",
]

NAMES = ["Rina", "Budi", "Sari", "Dewi", "Agus", "Wati", "Joko", "Putri", "Andi", "Lestari"]
SIZES = ["S", "M", "L", "XL", "XXL", "LL", "All size"]
FAMILIES = [
    ([], CLEAN, 0.80),
    (["drugs"], DRUGS, 0.06),
    (["unregistered_products"], UNREGISTERED, 0.05),
    (["trafficking_recruitment"], TRAFFICKING, 0.045),
    (["sexual_exploitation"], SEXUAL, 0.045),
]


def fill(template, rng):
    return template.format(
        n=rng.randint(2, 1000),
        size=rng.choice(SIZES),
        city=rng.choice(CITIES),
        p1=rng.choice([250, 300, 350, 400]),
        p2=rng.choice([700, 800, 900, 1200]),
        a=rng.randint(11, 99),
        b=rng.randint(1000, 9999),
        c=rng.randint(1000, 9999),
        handle=rng.choice(NAMES).lower() + str(rng.randint(1, 999)),
        acct=rng.randint(10**9, 10**10 - 1),
        name=rng.choice(NAMES),
    )


def post(i, rng):
    r = rng.random()
    for labels, phrases, share in FAMILIES:
        if r < share:
            break
        r -= share
    # One core phrase from the family, padded with clean phrases so lengths vary from a short chat
    # line to a long caption (suspicious text is usually buried in ordinary words).
    parts = [fill(rng.choice(phrases), rng)]
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5, 8])):
        parts.insert(rng.randint(0, len(parts)), fill(rng.choice(CLEAN), rng))
    if labels or rng.random() < 0.2:
        parts.append(fill(rng.choice(CONTACTS), rng))
    text = ". ".join(parts)
    if rng.random() < 0.3:
        text = text.upper() if rng.random() < 0.2 else text.capitalize()
    obj = {"id": f"gen-{i:07d}", "text": text, "platform": rng.choice(PLATFORMS)}
    if rng.random() < 0.4:
        obj["title"] = fill(rng.choice(CLEAN), rng)[:60]
        obj["price"] = rng.randint(5, 5000) * 1000
    if rng.random() < 0.5:
        handle = rng.choice(NAMES).lower() + str(rng.randint(1, 9999))
        obj["account"] = handle if rng.random() < 0.5 else {"handle": handle, "name": rng.choice(NAMES)}
    if rng.random() < 0.3:
        obj["location"] = rng.choice(CITIES)
    obj["labels"] = labels
    return obj


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="number of posts (default 200000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="output file (default: stdout)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    with out:
        for i in range(args.n):
            out.write(json.dumps(post(i, rng), ensure_ascii=False))
            out.write("\n")


if __name__ == "__main__":
    main()
