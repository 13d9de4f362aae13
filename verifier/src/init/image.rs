//! Which image is running: the SHA-256 of the unified kernel image the firmware booted, read back
//! from the EFI system partition it was loaded from.
//!
//! The digest cannot be baked into the image at build time: the UKI contains the initramfs that
//! would carry it (and, signed, its own Secure Boot signature). So PID 1 reads it at boot. The
//! systemd stub records where it was loaded from in two EFI variables: `LoaderDevicePartUUID`
//! (the GPT partition's unique GUID) and `LoaderImageIdentifier` (the UKI's path on it). We find
//! the partition by its GUID in the GPT of each disk, mount it read-only and hash the file.
//!
//! With Secure Boot on, the firmware verified that very file before running it, so the digest
//! names the signed image. Without UEFI (QEMU `-kernel`, another boot loader that does not set
//! the variables) the image is unknown and receipts say so (`image` absent).

use super::label::ReadAt;
use crate::keys::hex;
use crate::receipt::ImageRef;
use nix::mount::MsFlags;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

const EFIVARS: &str = "/sys/firmware/efi/efivars";
/// systemd's boot loader interface vendor GUID.
const LOADER_GUID: &str = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
const ESP_MOUNT: &str = "/mnt/esp";
/// The UKI's path when the stub does not name it (the removable-media default).
const DEFAULT_UKI: &str = "EFI/BOOT/BOOTX64.EFI";
/// A UKI is tens of MiB; anything far larger is not ours.
const MAX_UKI: u64 = 512 << 20;

/// The running image, or why it is unknown.
pub fn running_image(build_info: &str) -> Result<ImageRef, String> {
    if !Path::new("/sys/firmware/efi").exists() {
        return Err("not booted through UEFI".into());
    }
    let _ = std::fs::create_dir_all(EFIVARS);
    match nix::mount::mount(
        Some("efivarfs"),
        EFIVARS,
        Some("efivarfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY,
        None::<&str>,
    ) {
        Ok(()) | Err(nix::errno::Errno::EBUSY) => {}
        Err(e) => return Err(format!("cannot mount efivarfs: {e}")),
    }
    let part_uuid = efi_string("LoaderDevicePartUUID")
        .ok_or("the boot stub did not record the partition it was loaded from")?;
    let guid = parse_guid(&part_uuid).ok_or_else(|| format!("bad partition GUID {part_uuid:?}"))?;
    let path = efi_string("LoaderImageIdentifier")
        .map(|p| p.trim_start_matches('\\').replace('\\', "/"))
        .unwrap_or_else(|| DEFAULT_UKI.to_string());
    if path.split('/').any(|c| c.is_empty() || c == "..") {
        return Err(format!("unexpected image path {path:?}"));
    }
    let dev = partition_with_guid(&guid).ok_or("the boot partition is not among the disks")?;
    let _ = std::fs::create_dir_all(ESP_MOUNT);
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    // Name a character set the image carries (Debian's FAT default, ascii, is not there).
    let data = "iocharset=iso8859-1,codepage=437";
    nix::mount::mount(Some(&dev), ESP_MOUNT, Some("vfat"), flags, Some(data))
        .map_err(|e| format!("cannot mount the boot partition {}: {e}", dev.display()))?;
    let digest = hash_file(&Path::new(ESP_MOUNT).join(&path));
    let _ = nix::mount::umount(ESP_MOUNT);
    Ok(ImageRef {
        sha256: digest?,
        build: build_info.trim().to_string(),
        secure_boot: secure_boot(),
    })
}

/// Whether the firmware booted with Secure Boot enforcing (the global `SecureBoot` variable).
fn secure_boot() -> bool {
    let var = Path::new(EFIVARS).join("SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
    std::fs::read(var).ok().and_then(|v| v.get(4).copied()) == Some(1)
}

/// An EFI variable of the loader interface holding a UTF-16LE string (after 4 attribute bytes).
fn efi_string(name: &str) -> Option<String> {
    let raw = std::fs::read(Path::new(EFIVARS).join(format!("{name}-{LOADER_GUID}"))).ok()?;
    let units: Vec<u16> = raw
        .get(4..)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16(&units).ok()
}

/// A GUID string as the 16 bytes GPT stores (first three fields little-endian).
fn parse_guid(s: &str) -> Option<[u8; 16]> {
    let hexits: String = s.chars().filter(|c| *c != '-').collect();
    if hexits.len() != 32 || s.len() != 36 {
        return None;
    }
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(hexits.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = [0u8; 16];
    for (o, i) in out.iter_mut().zip(order) {
        *o = *b.get(i)?;
    }
    Some(out)
}

/// The partition device whose GPT unique GUID is `guid`.
fn partition_with_guid(guid: &[u8; 16]) -> Option<PathBuf> {
    let mut disks: Vec<String> = std::fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    disks.sort();
    for disk in disks {
        let Ok(f) = File::open(Path::new("/dev").join(&disk)) else {
            continue;
        };
        let Some(number) = gpt_entry_with_guid(&f, guid) else {
            continue;
        };
        // The partition of `disk` whose `partition` attribute is that number.
        let children = std::fs::read_dir(Path::new("/sys/block").join(&disk)).ok()?;
        for c in children.flatten() {
            let part = std::fs::read_to_string(c.path().join("partition")).ok();
            if part.as_deref().map(str::trim) == Some(number.to_string().as_str()) {
                return Some(Path::new("/dev").join(c.file_name()));
            }
        }
    }
    None
}

/// The 1-based number of the GPT entry of `disk` whose unique GUID is `guid` (512-byte sectors).
fn gpt_entry_with_guid<R: ReadAt + ?Sized>(disk: &R, guid: &[u8; 16]) -> Option<u32> {
    let header = disk.read_at_most(512, 92).ok()?;
    if header.get(..8)? != b"EFI PART" {
        return None;
    }
    let u32_at = |o: usize| Some(u32::from_le_bytes(header.get(o..o + 4)?.try_into().ok()?));
    let lba = u64::from_le_bytes(header.get(72..80)?.try_into().ok()?);
    let count = u32_at(80)?.min(1024);
    let size = u32_at(84)?;
    if !(128..=4096).contains(&size) {
        return None;
    }
    let table = disk
        .read_at_most(lba.checked_mul(512)?, (count * size) as usize)
        .ok()?;
    (0..count).find_map(|i| {
        let at = (i * size) as usize;
        (table.get(at + 16..at + 32)? == guid).then_some(i + 1)
    })
}

fn hash_file(path: &Path) -> Result<String, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut hasher = airlock_core::digest::Sha256::new();
    let mut reader = f.take(MAX_UKI);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::{gpt_entry_with_guid, parse_guid};

    #[test]
    fn guid_is_stored_mixed_endian() {
        let g = parse_guid("5A1C4E6B-7A1F-4C0B-9E4B-41524C4B0001").unwrap();
        assert_eq!(
            g,
            [
                0x6b, 0x4e, 0x1c, 0x5a, 0x1f, 0x7a, 0x0b, 0x4c, 0x9e, 0x4b, 0x41, 0x52, 0x4c, 0x4b,
                0x00, 0x01
            ]
        );
        assert!(parse_guid("5A1C4E6B7A1F4C0B9E4B41524C4B0001").is_none());
    }

    #[test]
    fn finds_the_gpt_entry_by_unique_guid() {
        let guid = parse_guid("5A1C4E6B-7A1F-4C0B-9E4B-41524C4B0002").unwrap();
        let mut disk = vec![0u8; 512 * 40];
        disk[512..520].copy_from_slice(b"EFI PART");
        disk[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
        disk[512 + 80..512 + 84].copy_from_slice(&128u32.to_le_bytes());
        disk[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
        let second = 1024 + 128;
        disk[second + 16..second + 32].copy_from_slice(&guid);
        assert_eq!(gpt_entry_with_guid(disk.as_slice(), &guid), Some(2));
        assert_eq!(gpt_entry_with_guid(disk.as_slice(), &[7u8; 16]), None);
        disk[512] = b'X';
        assert_eq!(gpt_entry_with_guid(disk.as_slice(), &guid), None);
    }
}
