//! Type descriptors: how a field's value is laid out in a record.
//!
//! [`TypeDesc`] is the `const`-constructible form that the macros and the
//! runtime build at compile time; [`Type`] is the owned form the decoder
//! reads back from a schema frame. Both describe postcard's data model.

/// A compile-time description of a value's postcard encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TypeDesc {
    /// `bool`: one byte, 0 or 1.
    Bool,
    /// `u8`: one raw byte.
    U8,
    /// `u16`: varint.
    U16,
    /// `u32`: varint.
    U32,
    /// `u64` and `usize`: varint.
    U64,
    /// `u128`: varint.
    U128,
    /// `i8`: one raw byte, two's complement.
    I8,
    /// `i16`: zigzag varint.
    I16,
    /// `i32`: zigzag varint.
    I32,
    /// `i64` and `isize`: zigzag varint.
    I64,
    /// `i128`: zigzag varint.
    I128,
    /// `f32`: 4 bytes little endian.
    F32,
    /// `f64`: 8 bytes little endian.
    F64,
    /// `char`: varint length then UTF-8 bytes.
    Char,
    /// `&str` and `String`: varint length then UTF-8 bytes.
    Str,
    /// Byte strings: varint length then bytes.
    Bytes,
    /// `()` and unit structs: nothing.
    Unit,
    /// `Option<T>`: a byte 0 (None) or 1 followed by `T`.
    Option(&'static TypeDesc),
    /// A sequence (`Vec<T>`, `&[T]`): varint length then elements.
    Seq(&'static TypeDesc),
    /// A fixed-size array `[T; N]`: N elements, no length.
    Array(u32, &'static TypeDesc),
    /// A tuple: its elements in order, no length.
    Tuple(&'static [TypeDesc]),
    /// A map: varint length then key, value pairs.
    Map(&'static TypeDesc, &'static TypeDesc),
    /// A struct: its fields in order.
    Struct(&'static str, &'static [FieldDesc]),
    /// An enum: varint variant index then the variant's content.
    Enum(&'static str, &'static [VariantDesc]),
    /// A point in time (`SystemTime`): nanoseconds since the Unix epoch, an
    /// `i128` as a zigzag varint. Decoded as RFC 3339 text.
    Timestamp,
    /// An IP address: varint length (4 or 16) then the address bytes in
    /// network order. Decoded as its usual text.
    IpAddr,
    /// A socket address: an [`IpAddr`](Self::IpAddr) then the port (varint).
    SocketAddr,
    /// A UUID: its 16 bytes. Decoded as hyphenated lower-case text.
    Uuid,
    /// A number with a unit (`Duration`: `Quantity("ns", U128)`): encoded
    /// and decoded as the inner type; the unit is part of the schema only.
    Quantity(&'static str, &'static TypeDesc),
    /// A JSON value (`serde_json::Value`), self-describing: see
    /// [`JsonKind`].
    Json,
}

/// The kinds of a [`TypeDesc::Json`] value: each value opens with its kind
/// as a varint, then what the kind says follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum JsonKind {
    /// `null`: nothing follows.
    Null = 0,
    /// `false`: nothing follows.
    False = 1,
    /// `true`: nothing follows.
    True = 2,
    /// A non-negative integer: a varint.
    U64 = 3,
    /// A negative integer: a zigzag varint.
    I64 = 4,
    /// Any other number: 8 bytes, an `f64` little endian.
    F64 = 5,
    /// A string: varint length then UTF-8.
    String = 6,
    /// An array: varint count then the values.
    Array = 7,
    /// An object: varint count then, for each member, its key (varint length
    /// then UTF-8) and its value.
    Object = 8,
}

impl JsonKind {
    /// Every kind, in wire order (`ALL[n] as u8 == n`).
    pub const ALL: [JsonKind; 9] = [
        JsonKind::Null,
        JsonKind::False,
        JsonKind::True,
        JsonKind::U64,
        JsonKind::I64,
        JsonKind::F64,
        JsonKind::String,
        JsonKind::Array,
        JsonKind::Object,
    ];

    /// The kind with wire value `v`.
    pub const fn from_u64(v: u64) -> Option<JsonKind> {
        if v < JsonKind::ALL.len() as u64 {
            Some(JsonKind::ALL[v as usize])
        } else {
            None
        }
    }
}

/// Deepest nesting of arrays and objects in a [`TypeDesc::Json`] value
/// that a reader accepts (the value itself is at depth 0).
pub const MAX_JSON_DEPTH: usize = 64;

/// The unit of a `Duration` ([`TypeDesc::Quantity`]): nanoseconds.
pub const UNIT_NANOSECONDS: &str = "ns";

/// A named field of a struct, struct variant or event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldDesc {
    /// Name as it appears in JSON output.
    pub name: &'static str,
    /// Encoding of the value.
    pub ty: &'static TypeDesc,
    /// A redacted field is never written; it decodes as `"<redacted>"`.
    pub redacted: bool,
}

/// A variant of an enum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariantDesc {
    /// Variant name.
    pub name: &'static str,
    /// Shape of the variant's content.
    pub kind: VariantKindDesc,
}

/// The shape of an enum variant's content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VariantKindDesc {
    /// No content.
    Unit,
    /// One unnamed value.
    Newtype(&'static TypeDesc),
    /// Several unnamed values.
    Tuple(&'static [TypeDesc]),
    /// Named fields.
    Struct(&'static [FieldDesc]),
}

/// The tag that opens a type descriptor in a schema frame: one per
/// [`TypeDesc`] variant. The numbers are the wire encoding (FORMAT.md, "Type
/// descriptors") and are mixed into fingerprints; this enum is their only
/// definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TypeTag {
    /// [`TypeDesc::Bool`].
    Bool = 0,
    /// [`TypeDesc::U8`].
    U8 = 1,
    /// [`TypeDesc::U16`].
    U16 = 2,
    /// [`TypeDesc::U32`].
    U32 = 3,
    /// [`TypeDesc::U64`].
    U64 = 4,
    /// [`TypeDesc::U128`].
    U128 = 5,
    /// [`TypeDesc::I8`].
    I8 = 6,
    /// [`TypeDesc::I16`].
    I16 = 7,
    /// [`TypeDesc::I32`].
    I32 = 8,
    /// [`TypeDesc::I64`].
    I64 = 9,
    /// [`TypeDesc::I128`].
    I128 = 10,
    /// [`TypeDesc::F32`].
    F32 = 11,
    /// [`TypeDesc::F64`].
    F64 = 12,
    /// [`TypeDesc::Char`].
    Char = 13,
    /// [`TypeDesc::Str`].
    Str = 14,
    /// [`TypeDesc::Bytes`].
    Bytes = 15,
    /// [`TypeDesc::Unit`].
    Unit = 16,
    /// [`TypeDesc::Option`]: followed by the inner type.
    Option = 17,
    /// [`TypeDesc::Seq`]: followed by the element type.
    Seq = 18,
    /// [`TypeDesc::Array`]: followed by the length (varint) and the element type.
    Array = 19,
    /// [`TypeDesc::Tuple`]: followed by the count (varint) and each type.
    Tuple = 20,
    /// [`TypeDesc::Map`]: followed by the key type and the value type.
    Map = 21,
    /// [`TypeDesc::Struct`]: followed by the name and a field list.
    Struct = 22,
    /// [`TypeDesc::Enum`]: followed by the name, the variant count and each variant.
    Enum = 23,
    /// [`TypeDesc::Timestamp`].
    Timestamp = 24,
    /// [`TypeDesc::IpAddr`].
    IpAddr = 25,
    /// [`TypeDesc::SocketAddr`].
    SocketAddr = 26,
    /// [`TypeDesc::Uuid`].
    Uuid = 27,
    /// [`TypeDesc::Quantity`]: followed by the unit (a string) and the type.
    Quantity = 28,
    /// [`TypeDesc::Json`].
    Json = 29,
}

impl TypeTag {
    /// Every tag, in wire order (`ALL[n] as u8 == n`).
    pub const ALL: [TypeTag; 30] = [
        TypeTag::Bool,
        TypeTag::U8,
        TypeTag::U16,
        TypeTag::U32,
        TypeTag::U64,
        TypeTag::U128,
        TypeTag::I8,
        TypeTag::I16,
        TypeTag::I32,
        TypeTag::I64,
        TypeTag::I128,
        TypeTag::F32,
        TypeTag::F64,
        TypeTag::Char,
        TypeTag::Str,
        TypeTag::Bytes,
        TypeTag::Unit,
        TypeTag::Option,
        TypeTag::Seq,
        TypeTag::Array,
        TypeTag::Tuple,
        TypeTag::Map,
        TypeTag::Struct,
        TypeTag::Enum,
        TypeTag::Timestamp,
        TypeTag::IpAddr,
        TypeTag::SocketAddr,
        TypeTag::Uuid,
        TypeTag::Quantity,
        TypeTag::Json,
    ];

    /// The tag with wire value `v`.
    pub const fn from_u64(v: u64) -> Option<TypeTag> {
        if v < TypeTag::ALL.len() as u64 {
            Some(TypeTag::ALL[v as usize])
        } else {
            None
        }
    }
}

impl TypeDesc {
    /// The descriptor's tag.
    pub const fn tag(&self) -> TypeTag {
        match self {
            TypeDesc::Bool => TypeTag::Bool,
            TypeDesc::U8 => TypeTag::U8,
            TypeDesc::U16 => TypeTag::U16,
            TypeDesc::U32 => TypeTag::U32,
            TypeDesc::U64 => TypeTag::U64,
            TypeDesc::U128 => TypeTag::U128,
            TypeDesc::I8 => TypeTag::I8,
            TypeDesc::I16 => TypeTag::I16,
            TypeDesc::I32 => TypeTag::I32,
            TypeDesc::I64 => TypeTag::I64,
            TypeDesc::I128 => TypeTag::I128,
            TypeDesc::F32 => TypeTag::F32,
            TypeDesc::F64 => TypeTag::F64,
            TypeDesc::Char => TypeTag::Char,
            TypeDesc::Str => TypeTag::Str,
            TypeDesc::Bytes => TypeTag::Bytes,
            TypeDesc::Unit => TypeTag::Unit,
            TypeDesc::Option(_) => TypeTag::Option,
            TypeDesc::Seq(_) => TypeTag::Seq,
            TypeDesc::Array(..) => TypeTag::Array,
            TypeDesc::Tuple(_) => TypeTag::Tuple,
            TypeDesc::Map(..) => TypeTag::Map,
            TypeDesc::Struct(..) => TypeTag::Struct,
            TypeDesc::Enum(..) => TypeTag::Enum,
            TypeDesc::Timestamp => TypeTag::Timestamp,
            TypeDesc::IpAddr => TypeTag::IpAddr,
            TypeDesc::SocketAddr => TypeTag::SocketAddr,
            TypeDesc::Uuid => TypeTag::Uuid,
            TypeDesc::Quantity(..) => TypeTag::Quantity,
            TypeDesc::Json => TypeTag::Json,
        }
    }
}

/// Wire value of a [`VariantKindDesc::Unit`] variant in a schema frame.
pub const VARIANT_UNIT: u64 = 0;
/// Wire value of a [`VariantKindDesc::Newtype`] variant.
pub const VARIANT_NEWTYPE: u64 = 1;
/// Wire value of a [`VariantKindDesc::Tuple`] variant.
pub const VARIANT_TUPLE: u64 = 2;
/// Wire value of a [`VariantKindDesc::Struct`] variant.
pub const VARIANT_STRUCT: u64 = 3;

impl VariantKindDesc {
    /// The wire value of this kind of variant (`VARIANT_*`).
    pub const fn tag(&self) -> u64 {
        match self {
            VariantKindDesc::Unit => VARIANT_UNIT,
            VariantKindDesc::Newtype(_) => VARIANT_NEWTYPE,
            VariantKindDesc::Tuple(_) => VARIANT_TUPLE,
            VariantKindDesc::Struct(_) => VARIANT_STRUCT,
        }
    }
}

/// The owned form of [`TypeDesc`], as read from a schema frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// See [`TypeDesc::Bool`].
    Bool,
    /// See [`TypeDesc::U8`].
    U8,
    /// See [`TypeDesc::U16`].
    U16,
    /// See [`TypeDesc::U32`].
    U32,
    /// See [`TypeDesc::U64`].
    U64,
    /// See [`TypeDesc::U128`].
    U128,
    /// See [`TypeDesc::I8`].
    I8,
    /// See [`TypeDesc::I16`].
    I16,
    /// See [`TypeDesc::I32`].
    I32,
    /// See [`TypeDesc::I64`].
    I64,
    /// See [`TypeDesc::I128`].
    I128,
    /// See [`TypeDesc::F32`].
    F32,
    /// See [`TypeDesc::F64`].
    F64,
    /// See [`TypeDesc::Char`].
    Char,
    /// See [`TypeDesc::Str`].
    Str,
    /// See [`TypeDesc::Bytes`].
    Bytes,
    /// See [`TypeDesc::Unit`].
    Unit,
    /// See [`TypeDesc::Option`].
    Option(Box<Type>),
    /// See [`TypeDesc::Seq`].
    Seq(Box<Type>),
    /// See [`TypeDesc::Array`].
    Array(u32, Box<Type>),
    /// See [`TypeDesc::Tuple`].
    Tuple(Vec<Type>),
    /// See [`TypeDesc::Map`].
    Map(Box<Type>, Box<Type>),
    /// See [`TypeDesc::Struct`].
    Struct(String, Vec<Field>),
    /// See [`TypeDesc::Enum`].
    Enum(String, Vec<Variant>),
    /// See [`TypeDesc::Timestamp`].
    Timestamp,
    /// See [`TypeDesc::IpAddr`].
    IpAddr,
    /// See [`TypeDesc::SocketAddr`].
    SocketAddr,
    /// See [`TypeDesc::Uuid`].
    Uuid,
    /// See [`TypeDesc::Quantity`].
    Quantity(String, Box<Type>),
    /// See [`TypeDesc::Json`].
    Json,
}

/// Owned form of [`FieldDesc`].
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Name as it appears in JSON output.
    pub name: String,
    /// Encoding of the value.
    pub ty: Type,
    /// Redacted fields have no bytes in records.
    pub redacted: bool,
}

/// Owned form of [`VariantDesc`].
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Variant name.
    pub name: String,
    /// Shape of the content.
    pub kind: VariantKind,
}

/// Owned form of [`VariantKindDesc`].
#[derive(Debug, Clone, PartialEq)]
pub enum VariantKind {
    /// No content.
    Unit,
    /// One unnamed value.
    Newtype(Type),
    /// Several unnamed values.
    Tuple(Vec<Type>),
    /// Named fields.
    Struct(Vec<Field>),
}

impl TypeDesc {
    /// Converts the static descriptor into its owned form.
    pub fn to_owned_type(&self) -> Type {
        match *self {
            TypeDesc::Bool => Type::Bool,
            TypeDesc::U8 => Type::U8,
            TypeDesc::U16 => Type::U16,
            TypeDesc::U32 => Type::U32,
            TypeDesc::U64 => Type::U64,
            TypeDesc::U128 => Type::U128,
            TypeDesc::I8 => Type::I8,
            TypeDesc::I16 => Type::I16,
            TypeDesc::I32 => Type::I32,
            TypeDesc::I64 => Type::I64,
            TypeDesc::I128 => Type::I128,
            TypeDesc::F32 => Type::F32,
            TypeDesc::F64 => Type::F64,
            TypeDesc::Char => Type::Char,
            TypeDesc::Str => Type::Str,
            TypeDesc::Bytes => Type::Bytes,
            TypeDesc::Unit => Type::Unit,
            TypeDesc::Option(t) => Type::Option(Box::new(t.to_owned_type())),
            TypeDesc::Seq(t) => Type::Seq(Box::new(t.to_owned_type())),
            TypeDesc::Array(n, t) => Type::Array(n, Box::new(t.to_owned_type())),
            TypeDesc::Tuple(ts) => Type::Tuple(ts.iter().map(TypeDesc::to_owned_type).collect()),
            TypeDesc::Map(k, v) => Type::Map(Box::new(k.to_owned_type()), Box::new(v.to_owned_type())),
            TypeDesc::Struct(name, fields) => Type::Struct(name.to_owned(), owned_fields(fields)),
            TypeDesc::Enum(name, variants) => Type::Enum(
                name.to_owned(),
                variants
                    .iter()
                    .map(|v| Variant {
                        name: v.name.to_owned(),
                        kind: match v.kind {
                            VariantKindDesc::Unit => VariantKind::Unit,
                            VariantKindDesc::Newtype(t) => VariantKind::Newtype(t.to_owned_type()),
                            VariantKindDesc::Tuple(ts) => {
                                VariantKind::Tuple(ts.iter().map(TypeDesc::to_owned_type).collect())
                            }
                            VariantKindDesc::Struct(fs) => VariantKind::Struct(owned_fields(fs)),
                        },
                    })
                    .collect(),
            ),
            TypeDesc::Timestamp => Type::Timestamp,
            TypeDesc::IpAddr => Type::IpAddr,
            TypeDesc::SocketAddr => Type::SocketAddr,
            TypeDesc::Uuid => Type::Uuid,
            TypeDesc::Quantity(unit, t) => Type::Quantity(unit.to_owned(), Box::new(t.to_owned_type())),
            TypeDesc::Json => Type::Json,
        }
    }
}

/// Converts static field descriptors into owned ones.
pub fn owned_fields(fields: &[FieldDesc]) -> Vec<Field> {
    fields.iter().map(|f| Field { name: f.name.to_owned(), ty: f.ty.to_owned_type(), redacted: f.redacted }).collect()
}
