//! File-system labels read straight from the device: there is no udev (and so no
//! `/dev/disk/by-label`) on the appliance. Only what is needed to find the media stick (FAT or
//! exFAT, label `AIRLOCK`) and the state partition (ext4, label `AIRLOCK-STATE`).
//!
//! Every offset read here is bounds-checked; a device that lies about its geometry yields `None`,
//! never a panic or a huge read.

use std::io;

/// Largest directory region read while looking for a volume-label entry.
const MAX_DIR_READ: u64 = 64 * 1024;

/// Something that can be read at an offset (a block device, or a byte vector in tests).
pub trait ReadAt {
    /// Reads up to `len` bytes at `offset`; a short result means the end was reached.
    fn read_at_most(&self, offset: u64, len: usize) -> io::Result<Vec<u8>>;
}

impl ReadAt for std::fs::File {
    fn read_at_most(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            let Some(rest) = buf.get_mut(got..) else {
                break;
            };
            match self.read_at(rest, offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }
}

impl ReadAt for [u8] {
    fn read_at_most(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let end = start.saturating_add(len).min(self.len());
        Ok(self[start..end].to_vec())
    }
}

/// The kind of file system found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// FAT12/16/32 (mounted as `vfat`).
    Fat,
    /// exFAT.
    Exfat,
    /// ext2/3/4 (mounted as `ext4`).
    Ext4,
}

impl FsKind {
    /// The name `mount(2)` wants.
    pub fn mount_type(self) -> &'static str {
        match self {
            FsKind::Fat => "vfat",
            FsKind::Exfat => "exfat",
            FsKind::Ext4 => "ext4",
        }
    }
}

/// A recognised file system and its label (`None` when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// What it is.
    pub kind: FsKind,
    /// Its label, trailing spaces and NULs removed.
    pub label: Option<String>,
}

/// Identifies the file system on `dev` and reads its label. `Ok(None)`: not one we know.
pub fn probe<R: ReadAt + ?Sized>(dev: &R) -> io::Result<Option<Probe>> {
    let head = dev.read_at_most(0, 2048)?;
    if let Some(p) = probe_ext4(&head) {
        return Ok(Some(p));
    }
    if let Some(p) = probe_exfat(dev, &head)? {
        return Ok(Some(p));
    }
    probe_fat(dev, &head)
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn trim_label(raw: &[u8]) -> Option<String> {
    let end = raw
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(0, |i| i + 1);
    let s: String = raw[..end]
        .iter()
        .map(|&c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as char
            } else {
                '?'
            }
        })
        .collect();
    (!s.is_empty()).then_some(s)
}

fn probe_ext4(head: &[u8]) -> Option<Probe> {
    // Superblock at 1024: s_magic at +0x38, s_volume_name[16] at +0x78.
    if le16(head, 1024 + 0x38)? != 0xEF53 {
        return None;
    }
    Some(Probe {
        kind: FsKind::Ext4,
        label: trim_label(head.get(1024 + 0x78..1024 + 0x88)?),
    })
}

fn probe_exfat<R: ReadAt + ?Sized>(dev: &R, head: &[u8]) -> io::Result<Option<Probe>> {
    if head.get(3..11) != Some(b"EXFAT   ") || head.get(510..512) != Some(&[0x55, 0xAA]) {
        return Ok(None);
    }
    let geometry = (|| {
        let bps_shift = u32::from(*head.get(108)?);
        let spc_shift = u32::from(*head.get(109)?);
        if !(9..=12).contains(&bps_shift) || bps_shift + spc_shift > 25 {
            return None;
        }
        let heap = u64::from(le32(head, 88)?);
        let root = u64::from(le32(head, 96)?);
        if root < 2 {
            return None;
        }
        let offset = (heap + ((root - 2) << spc_shift)) << bps_shift;
        let cluster = 1u64 << (bps_shift + spc_shift);
        Some((offset, cluster.min(MAX_DIR_READ)))
    })();
    let Some((offset, len)) = geometry else {
        return Ok(Some(Probe {
            kind: FsKind::Exfat,
            label: None,
        }));
    };
    let dir = dev.read_at_most(offset, len as usize)?;
    let mut label = None;
    for e in dir.chunks_exact(32) {
        match e[0] {
            0x00 => break,
            0x83 => {
                let n = usize::from(e[1]).min(11);
                let units: Vec<u16> = e[2..2 + 2 * n]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                label = Some(String::from_utf16_lossy(&units)).filter(|s| !s.is_empty());
                break;
            }
            _ => {}
        }
    }
    Ok(Some(Probe {
        kind: FsKind::Exfat,
        label,
    }))
}

fn probe_fat<R: ReadAt + ?Sized>(dev: &R, head: &[u8]) -> io::Result<Option<Probe>> {
    struct Bpb {
        bps: u64,
        spc: u64,
        reserved: u64,
        fats: u64,
        root_entries: u64,
        fat_size: u64,
        fat32_root_cluster: Option<u64>,
        boot_label: Option<String>,
    }
    let bpb = (|| {
        if head.get(510..512) != Some(&[0x55, 0xAA]) || !matches!(head.first()?, 0xEB | 0xE9) {
            return None;
        }
        let bps = u64::from(le16(head, 11)?);
        let spc = u64::from(*head.get(13)?);
        let reserved = u64::from(le16(head, 14)?);
        let fats = u64::from(*head.get(16)?);
        let root_entries = u64::from(le16(head, 17)?);
        let fat16 = u64::from(le16(head, 22)?);
        if !matches!(bps, 512 | 1024 | 2048 | 4096)
            || spc == 0
            || !spc.is_power_of_two()
            || reserved == 0
            || !(1..=4).contains(&fats)
        {
            return None;
        }
        let (fat_size, root_cluster, sig_at, label_at, type_at) = if fat16 == 0 {
            (
                u64::from(le32(head, 36)?),
                Some(u64::from(le32(head, 44)?)),
                66,
                71,
                82,
            )
        } else {
            (fat16, None, 38, 43, 54)
        };
        if fat_size == 0 || !head.get(type_at..type_at + 3)?.starts_with(b"FAT") {
            return None;
        }
        let boot_label = if *head.get(sig_at)? == 0x29 {
            trim_label(head.get(label_at..label_at + 11)?).filter(|l| l != "NO NAME")
        } else {
            None
        };
        Some(Bpb {
            bps,
            spc,
            reserved,
            fats,
            root_entries,
            fat_size,
            fat32_root_cluster: root_cluster,
            boot_label,
        })
    })();
    let Some(b) = bpb else { return Ok(None) };
    // The volume-label entry in the root directory is authoritative (what `fatlabel` and Windows
    // change); the copy in the boot sector is the fallback.
    let fat_end = (b.reserved + b.fats * b.fat_size) * b.bps;
    let (dir_off, dir_len) = match b.fat32_root_cluster {
        None => (fat_end, b.root_entries * 32),
        Some(c) if c >= 2 => (fat_end + (c - 2) * b.spc * b.bps, b.spc * b.bps),
        Some(_) => (0, 0),
    };
    let mut label = None;
    if dir_len > 0 {
        let dir = dev.read_at_most(dir_off, dir_len.min(MAX_DIR_READ) as usize)?;
        for e in dir.chunks_exact(32) {
            match e[0] {
                0x00 => break,
                0xE5 => continue,
                _ => {}
            }
            let attr = e[11];
            if attr & 0x0F == 0x0F || attr & 0x18 != 0x08 {
                continue;
            }
            let mut name = [0u8; 11];
            name.copy_from_slice(&e[..11]);
            if name[0] == 0x05 {
                name[0] = 0xE5;
            }
            label = trim_label(&name);
            break;
        }
    }
    Ok(Some(Probe {
        kind: FsKind::Fat,
        label: label.or(b.boot_label),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fat16_with(boot_label: &[u8; 11], root_label: Option<&[u8; 11]>) -> Vec<u8> {
        let mut img = vec![0u8; 64 * 1024];
        img[0] = 0xEB;
        img[11..13].copy_from_slice(&512u16.to_le_bytes());
        img[13] = 4; // sectors per cluster
        img[14..16].copy_from_slice(&1u16.to_le_bytes()); // reserved
        img[16] = 2; // FATs
        img[17..19].copy_from_slice(&512u16.to_le_bytes()); // root entries
        img[22..24].copy_from_slice(&8u16.to_le_bytes()); // FAT size
        img[38] = 0x29;
        img[43..54].copy_from_slice(boot_label);
        img[54..62].copy_from_slice(b"FAT16   ");
        img[510] = 0x55;
        img[511] = 0xAA;
        let root = (1 + 2 * 8) * 512;
        // A long-name entry and a deleted entry come first: both must be skipped.
        img[root] = 0x41;
        img[root + 11] = 0x0F;
        img[root + 32] = 0xE5;
        img[root + 32 + 11] = 0x08;
        if let Some(l) = root_label {
            img[root + 64..root + 75].copy_from_slice(l);
            img[root + 64 + 11] = 0x08;
        }
        img
    }

    #[test]
    fn fat_root_directory_label_wins_over_boot_sector() {
        let img = fat16_with(b"OLDNAME    ", Some(b"AIRLOCK    "));
        let p = probe(img.as_slice()).unwrap().unwrap();
        assert_eq!(
            p,
            Probe {
                kind: FsKind::Fat,
                label: Some("AIRLOCK".into())
            }
        );
    }

    #[test]
    fn fat_boot_sector_label_is_the_fallback() {
        let img = fat16_with(b"AIRLOCK    ", None);
        assert_eq!(
            probe(img.as_slice()).unwrap().unwrap().label.as_deref(),
            Some("AIRLOCK")
        );
        let img = fat16_with(b"NO NAME    ", None);
        assert_eq!(probe(img.as_slice()).unwrap().unwrap().label, None);
    }

    #[test]
    fn an_mbr_is_not_a_fat_file_system() {
        let mut mbr = vec![0u8; 4096];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        assert_eq!(probe(mbr.as_slice()).unwrap(), None);
    }

    #[test]
    fn lying_fat_geometry_is_not_a_panic() {
        let mut img = fat16_with(b"AIRLOCK    ", None);
        img[14..16].copy_from_slice(&u16::MAX.to_le_bytes());
        img[22..24].copy_from_slice(&u16::MAX.to_le_bytes());
        let p = probe(img.as_slice()).unwrap().unwrap();
        assert_eq!(p.label.as_deref(), Some("AIRLOCK"));
        for cut in [0, 11, 40, 100, 511, 600] {
            let _ = probe(&img[..cut]);
        }
    }

    #[test]
    fn ext4_label() {
        let mut img = vec![0u8; 4096];
        img[1024 + 0x38..1024 + 0x3A].copy_from_slice(&0xEF53u16.to_le_bytes());
        img[1024 + 0x78..1024 + 0x78 + 13].copy_from_slice(b"AIRLOCK-STATE");
        let p = probe(img.as_slice()).unwrap().unwrap();
        assert_eq!(
            p,
            Probe {
                kind: FsKind::Ext4,
                label: Some("AIRLOCK-STATE".into())
            }
        );
    }

    #[test]
    fn exfat_label_from_root_directory() {
        let mut img = vec![0u8; 256 * 1024];
        img[0] = 0xEB;
        img[3..11].copy_from_slice(b"EXFAT   ");
        img[88..92].copy_from_slice(&64u32.to_le_bytes()); // cluster heap at sector 64
        img[96..100].copy_from_slice(&5u32.to_le_bytes()); // root at cluster 5
        img[108] = 9;
        img[109] = 3;
        img[510] = 0x55;
        img[511] = 0xAA;
        let root = (64 + (5 - 2) * 8) * 512;
        img[root] = 0x81; // allocation bitmap entry first
        img[root + 32] = 0x83;
        img[root + 33] = 7;
        for (i, c) in "AIRLOCK".encode_utf16().enumerate() {
            img[root + 34 + 2 * i..root + 36 + 2 * i].copy_from_slice(&c.to_le_bytes());
        }
        let p = probe(img.as_slice()).unwrap().unwrap();
        assert_eq!(
            p,
            Probe {
                kind: FsKind::Exfat,
                label: Some("AIRLOCK".into())
            }
        );
    }
}
