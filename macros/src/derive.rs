//! `#[derive(Parameters)]`: a model struct whose gradient is a value of the same struct.
//!
//! The derive gives the struct what the runtime needs of a parameter: its tangent (the struct
//! itself), a zero of its shape, accumulation, and the block walk optimizers use; and, as an
//! element of a `Vec`, the element-by-element forms of these. Each trained field is handled by
//! one runtime function whose call is spanned at the field's type, so an untrainable field is
//! one error there. `#[no_grad]` fields are copied into the gradient value unchanged (`Clone`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Member};

use crate::parse::NO_GRAD;

pub fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match derive(&input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

struct Field {
    member: Member,
    ty: syn::Type,
    vis: syn::Visibility,
    trained: bool,
}

fn fields(input: &DeriveInput) -> syn::Result<Vec<Field>> {
    let data = match &input.data {
        Data::Struct(data) => data,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "`Parameters` can be derived only for structs: an enum's gradient would need one shape per variant\n\nhelp: keep the trained values in a struct, and the choice between variants as `#[no_grad]` data",
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "`Parameters` can be derived only for structs, not unions",
            ))
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut out = Vec::new();
    let named = matches!(data.fields, Fields::Named(_));
    for (index, field) in data.fields.iter().enumerate() {
        let mut trained = true;
        for attr in &field.attrs {
            if attr.path().is_ident(NO_GRAD) {
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    combine(
                        &mut errors,
                        syn::Error::new(
                            attr.meta.span(),
                            "`#[no_grad]` on a field takes no arguments\n\nhelp: write `#[no_grad]`: the field is then not trained, and copied into the gradient value unchanged",
                        ),
                    );
                }
                trained = false;
            }
        }
        let member = match &field.ident {
            Some(ident) if named => Member::Named(ident.clone()),
            _ => Member::Unnamed(syn::Index {
                index: index as u32,
                span: field.ty.span(),
            }),
        };
        out.push(Field {
            member,
            ty: field.ty.clone(),
            vis: field.vis.clone(),
            trained,
        });
    }
    match errors {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

fn combine(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(existing) => existing.combine(error),
        None => *errors = Some(error),
    }
}

fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let fields = fields(input)?;
    let rt = quote!(::nabla::__private);
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Bounds for fields whose type mentions a type parameter (`w: DMatrix<T>`): what the impls
    // need of them. Concrete field types need no bound: their calls below check them.
    let type_params: Vec<&syn::Ident> = input.generics.type_params().map(|p| &p.ident).collect();
    let mut where_clause = where_clause.cloned().unwrap_or_else(|| syn::WhereClause {
        where_token: Default::default(),
        predicates: Default::default(),
    });
    for field in fields.iter().filter(|f| f.trained) {
        if mentions_any(&field.ty, &type_params) {
            let ty = &field.ty;
            where_clause
                .predicates
                .push(syn::parse_quote_spanned!(ty.span()=> #ty: #rt::ParameterField));
        }
    }

    let this = Span::mixed_site();
    let other = syn::Ident::new("__other", this);
    let visitor = syn::Ident::new("__visitor", this);
    let by = syn::Ident::new("__by", this);
    let zero_fields = fields.iter().map(|f| {
        let (member, ty) = (&f.member, &f.ty);
        if f.trained {
            quote_spanned!(ty.span()=> #member: (#rt::trained::<#ty>().zero)(&self.#member))
        } else {
            quote_spanned!(ty.span()=> #member: ::core::clone::Clone::clone(&self.#member))
        }
    });
    let trained: Vec<&Field> = fields.iter().filter(|f| f.trained).collect();
    let accumulate = trained.iter().map(|f| {
        let (member, ty) = (&f.member, &f.ty);
        quote_spanned!(ty.span()=> (#rt::trained::<#ty>().accumulate)(&mut self.#member, #other.#member);)
    });
    let scale = trained.iter().map(|f| {
        let (member, ty) = (&f.member, &f.ty);
        quote_spanned!(ty.span()=> (#rt::trained::<#ty>().scale)(&mut self.#member, #by);)
    });
    let visit = trained.iter().map(|f| {
        let (member, ty) = (&f.member, &f.ty);
        quote_spanned!(ty.span()=> (#rt::trained::<#ty>().visit)(&mut self.#member, &#other.#member, &mut #visitor);)
    });
    let self_ty = quote!(#name #ty_generics);
    let field_methods = fields.iter().map(|f| field_methods(f, &rt));

    Ok(quote! {
        #[automatically_derived]
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code)]
        impl #impl_generics #self_ty #where_clause {
            #(#field_methods)*
        }

        const _: () = {
            #[automatically_derived]
            impl #impl_generics #rt::Tangent for #self_ty #where_clause {
                type Tangent = #self_ty;
                #[inline]
                fn zero_tangent(&self) -> #self_ty {
                    #name { #(#zero_fields,)* }
                }
            }

            #[automatically_derived]
            impl #impl_generics #rt::TangentValue for #self_ty #where_clause {
                #[inline]
                fn zeroed(&self) -> #self_ty {
                    #rt::Tangent::zero_tangent(self)
                }
                #[inline]
                #[allow(unused_variables)]
                fn scale(&mut self, #by: f64) {
                    #(#scale)*
                }
            }

            #[automatically_derived]
            impl #impl_generics #rt::Accumulate for #self_ty #where_clause {
                #[inline]
                #[allow(unused_variables)]
                fn accumulate(&mut self, #other: #self_ty) {
                    #(#accumulate)*
                }
            }

            #[automatically_derived]
            impl #impl_generics #rt::Parameters for #self_ty #where_clause {
                type Gradient = #self_ty;
                #[inline]
                #[allow(unused_variables)]
                fn visit_blocks<__V: #rt::BlockVisitor + ?Sized>(&mut self, #other: &#self_ty, __walker: &mut __V) {
                    let mut #visitor = #rt::Forwarding(__walker);
                    #(#visit)*
                }
            }

            #[automatically_derived]
            impl #impl_generics #rt::TangentElement for #self_ty #where_clause {}

            #[automatically_derived]
            impl #impl_generics #rt::ParameterElement for #self_ty #where_clause {}

            #[automatically_derived]
            impl #impl_generics #rt::ParameterField for #self_ty #where_clause {}
        };
    })
}

/// The methods through which differentiable code reaches one field of a gradient value, as
/// visible as the field itself: `__nabla_slot_F` lends the field to add a read's cotangent into,
/// `__nabla_add_F` adds one, `__nabla_call_F` says where the gradient a call returns for the
/// field passed as an argument goes, and `__nabla_part_F` takes the field's part out of a struct
/// literal's cotangent. For a `#[no_grad]` field, whose place in a gradient value holds the
/// field's value and no gradient, the first lends nothing, the second ignores what it is given,
/// the third drops what a call gives (which may be `()`: data passed to a parameter that takes
/// none), and the last gives `NoGradientField`, which is no gradient: storing a value that carries
/// gradient in a `#[no_grad]` field is a compile error at the literal. The macro cannot see
/// which fields are trained; these let rustc decide.
fn field_methods(field: &Field, rt: &TokenStream) -> TokenStream {
    let (member, ty, vis) = (&field.member, &field.ty, &field.vis);
    let suffix = match member {
        Member::Named(ident) => syn::ext::IdentExt::unraw(ident).to_string(),
        Member::Unnamed(index) => index.index.to_string(),
    };
    let add = quote::format_ident!("__nabla_add_{}", suffix);
    let part = quote::format_ident!("__nabla_part_{}", suffix);
    let slot = quote::format_ident!("__nabla_slot_{}", suffix);
    let call = quote::format_ident!("__nabla_call_{}", suffix);
    if field.trained {
        quote! {
            #[inline(always)]
            #vis fn #call(&mut self) -> #rt::TrainedCall<'_, #ty> {
                #rt::TrainedCall(&mut self.#member)
            }
            #[inline(always)]
            #vis fn #slot(&mut self) -> ::core::option::Option<&mut #ty> {
                ::core::option::Option::Some(&mut self.#member)
            }
            #[inline(always)]
            #vis fn #add(&mut self, contribution: #ty) {
                (#rt::trained::<#ty>().accumulate)(&mut self.#member, contribution);
            }
            #[inline(always)]
            #vis fn #part(&mut self) -> #ty {
                let zero = (#rt::trained::<#ty>().zero)(&self.#member);
                ::core::mem::replace(&mut self.#member, zero)
            }
        }
    } else {
        // A slot of data, which takes the reads of the field and of its own fields and elements,
        // whatever their types (`Vec<f64>`, `Config`, `Vec<Vec<f64>>`; see the runtime's
        // `data_slot`), and which a call's gradient for an element of it can tell from a
        // trained field's.
        let slot_fn = quote! {
            #[inline(always)]
            #vis fn #slot(&mut self) -> ::core::option::Option<&mut #rt::DataSlot> {
                ::core::option::Option::None
            }
        };
        quote! {
            #slot_fn
            #[inline(always)]
            #vis fn #add<__D>(&mut self, _contribution: __D) {}
            #[inline(always)]
            #vis fn #call(&mut self) -> #rt::DataCall {
                #rt::DataCall
            }
            #[inline(always)]
            #vis fn #part(&mut self) -> #rt::NoGradientField {
                #rt::NoGradientField
            }
        }
    }
}

/// Whether `ty` names one of `params` anywhere (`T`, `Vec<T>`, `DMatrix<T>`).
fn mentions_any(ty: &syn::Type, params: &[&syn::Ident]) -> bool {
    struct Finder<'a> {
        params: &'a [&'a syn::Ident],
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if let Some(first) = path.segments.first() {
                if self.params.iter().any(|p| first.ident == **p) {
                    self.found = true;
                }
            }
            syn::visit::visit_path(self, path);
        }
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.found
}
