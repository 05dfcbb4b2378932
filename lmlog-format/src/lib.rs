//! The lmlog wire format, shared by the runtime (`lmlog`), the macros
//! (`lmlog-macros`) and the decoder (`lmlog-decode`).
//!
//! This crate owns every byte-level decision: the file preamble and frame
//! layout ([`frame`]), severity levels ([`level`]), postcard's integer encoding ([`varint`]), type
//! descriptors ([`types`]), the schema codec ([`wire`], [`schema`]), message
//! templates ([`template`]) and call-site fingerprints ([`fingerprint`]).
//! FORMAT.md at the repository root is the prose specification; the
//! constants here are its single source.
#![warn(missing_docs)]

pub mod fingerprint;
pub mod frame;
pub mod level;
pub mod schema;
#[cfg(feature = "codec")]
pub mod staging;
pub mod template;
pub mod types;
pub mod varint;
pub mod wire;

pub use frame::{FrameHeader, FrameKind, RecordHeader, RecordsHeader, FORMAT_VERSION, MAGIC, SYNC};
pub use level::Level;
pub use schema::{
    CallsiteSchema, CallsiteSchemaRef, ClockAnchor, ClockInfo, ClockSource, ClockUpdate, ContextChange, ContextOp,
    ContextValue, DroppedEnd, EndInfo, GlobalContextReport, LossDetail, LossReport, SampledCount, SampledReport,
    SessionInfo, ThreadInfo, Watermark, WriterLoss,
};
pub use types::{
    Field, FieldDesc, JsonKind, Type, TypeDesc, TypeTag, Variant, VariantDesc, VariantKind, VariantKindDesc,
};
