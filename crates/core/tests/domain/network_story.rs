//! Networks built from screening output, as ingest would feed them.

use patroli_core::AccountId;
use patroli_core::network::{
    CommonReason, ContactKind, ContactValue, NetworkConfig, NetworkIndex, render_svg,
};
use patroli_detect::{Entity, EntityKind, Field};
use uuid::Uuid;

fn entity(kind: EntityKind, value: &str) -> Entity {
    Entity {
        kind,
        value: value.into(),
        field: Field::Text,
        start: 0,
        end: 0,
        attrs: Default::default(),
    }
}

#[test]
fn whatsapp_in_one_post_and_phone_in_another_link_sellers_across_platforms() {
    let mut index = NetworkIndex::new(NetworkConfig::default());
    let ig_seller = AccountId(Uuid::from_u128(1));
    let marketplace_seller = AccountId(Uuid::from_u128(2));
    let unrelated = AccountId(Uuid::from_u128(3));
    let wa = ContactValue::from_entity(&entity(EntityKind::Whatsapp, "+6281234567890")).unwrap();
    let phone = ContactValue::from_entity(&entity(EntityKind::Phone, "+6281234567890")).unwrap();
    let bpom = entity(EntityKind::BpomNumber, "POMTR182614921");
    assert_eq!(ContactValue::from_entity(&bpom), None);
    index.add(ig_seller, &[wa]);
    index.add(marketplace_seller, std::slice::from_ref(&phone));
    index.add(
        unrelated,
        &[ContactValue::new(ContactKind::Phone, "0800-1-500-500").unwrap()],
    );
    let found = index.lookup(&phone).unwrap();
    assert_eq!(found.networks.len(), 1);
    assert_eq!(
        found.networks[0].members,
        vec![ig_seller, marketplace_seller]
    );
    let toll_free = index
        .lookup(&ContactValue::new(ContactKind::Phone, "08001500500").unwrap())
        .unwrap();
    assert_eq!(toll_free.common, Some(CommonReason::Flagged));
    let svg = render_svg(&found.networks[0], |a| format!("akun-{}", a.0.as_u128()));
    assert!(svg.contains("akun-1") && svg.contains("akun-2"));
}
