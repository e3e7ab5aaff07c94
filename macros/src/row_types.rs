//! Parameter types in rows that cannot carry gradient (`&[Vec<f64>]`), told by syntax so that
//! nabla reports them once, at the rows' type (see `parse::signature`).

use syn::{GenericArgument, PathArguments, Type};

/// The rows of a slice, array or `Vec` whose elements are themselves growable or matrices
/// (`&[Vec<f64>]`, `Vec<DVector<f64>>`): such elements never carry gradient (the runtime's
/// elements are floats, arrays of them and structs deriving `Parameters`), so a parameter of
/// this type is always a mistake or data.
pub(crate) fn row_container(ty: &Type) -> Option<&Type> {
    let row = match ty {
        Type::Reference(r) => return row_container(&r.elem),
        Type::Paren(p) => return row_container(&p.elem),
        Type::Slice(s) => &*s.elem,
        Type::Array(a) => &*a.elem,
        Type::Path(p) => match p.path.segments.last() {
            Some(last) if last.ident == "Vec" => match &last.arguments {
                PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(GenericArgument::Type(t)) => t,
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    let Type::Path(p) = row else {
        return None;
    };
    let name = p.path.segments.last()?.ident.to_string();
    // Names a user's own struct deriving `Parameters` could have (`Vector3`, `Point2`) are left
    // to the runtime's bound, which tells them apart by type.
    let growable = matches!(name.as_str(), "Vec" | "VecDeque" | "Box" | "String");
    let matrix = matches!(
        name.as_str(),
        "DVector" | "DMatrix" | "RowDVector" | "SVector" | "SMatrix" | "OVector" | "OMatrix"
    );
    (growable || matrix).then_some(row)
}

#[cfg(test)]
mod tests {
    use super::row_container;

    fn rows(ty: &str) -> Option<String> {
        let ty: syn::Type = syn::parse_str(ty).expect("a type");
        row_container(&ty).map(crate::parse::type_text)
    }

    #[test]
    fn rows_that_cannot_carry_gradient_are_told_by_their_type() {
        assert_eq!(rows("&[Vec<f64>]").as_deref(), Some("Vec<f64>"));
        assert_eq!(rows("Vec<DVector<f64>>").as_deref(), Some("DVector<f64>"));
        assert_eq!(
            rows("&[SVector<f32, 3>; 4]").as_deref(),
            Some("SVector<f32, 3>")
        );
        assert_eq!(rows("&Vec<String>").as_deref(), Some("String"));
        for fine in [
            "&[f64]",
            "&[[f64; 3]]",
            "Vec<Layer>",
            "&[Points]",
            "&DVector<f64>",
            "Vec<f64>",
            "&[Vector3]",
            "&[Point2<f64>]",
        ] {
            assert_eq!(rows(fine), None, "{fine}");
        }
    }
}
