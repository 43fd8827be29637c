//! The QR code picture: a small PNG (error correction M, 6-pixel modules,
//! quiet zone kept) that any phone camera reads from a screen.

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

use crate::domain::DomainError;

pub fn png(payload: &str) -> Result<Vec<u8>, DomainError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| DomainError::Internal(format!("QR encoding failed: {e}")))?;
    let image = code
        .render::<Luma<u8>>()
        .module_dimensions(6, 6)
        .quiet_zone(true)
        .build();
    let mut out = Vec::with_capacity(2048);
    PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| DomainError::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_decodes_back_to_the_payload() {
        let payload = "http://127.0.0.1:8000/app#qr=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
        let bytes = png(payload).unwrap();
        assert!(bytes.len() < 4096, "PNG is {} bytes", bytes.len());
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, payload);
    }
}
