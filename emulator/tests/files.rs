//! Uploads (sg and s3 storage, multipart) and downloads, over real HTTP.

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shotgrid_emulator::model::schema::FieldKind;
use shotgrid_emulator::{Config, ServerOptions, StorageMode};

mod common;

use common::Site;

const SECRET: &str = "admin-secret";

async fn site(storage: StorageMode) -> Site {
    let s = Site::start_with_client(
        Config {
            storage,
            min_part_size: 1024,
            ..common::demo_config("tests", "key")
        },
        ServerOptions {
            body_limit: 4096,
            upload_limit: 64 * 1024,
            admin_secret: Some(SECRET.into()),
            ..ServerOptions::default()
        },
        client(),
        "tests",
        "key",
    )
    .await;
    {
        let mut store = s.backend().store_mut();
        store
            .define_field("Shot", "sg_movie", FieldKind::Url)
            .unwrap();
        store
            .define_field("Shot", "attachments", FieldKind::MultiEntity)
            .unwrap();
        store
            .define_field("Shot", "image", FieldKind::Image)
            .unwrap();
    }
    s
}

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn post_json(site: &Site, url: &str, body: &Value) -> (StatusCode, Value) {
    site.call("POST", url, Some(body.clone())).await
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn admin_sha(c: &Client, url: &str, attachment: i64) -> Value {
    let path = format!("/_admin/files/{attachment}/sha256");
    let (status, body) = common::admin(c, url, SECRET, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn last_attachment(site: &Site) -> (i64, Value) {
    let store = site.backend().store();
    let t = store.table("Attachment").unwrap();
    let (id, r) = t.records.iter().next_back().expect("an attachment");
    (*id, Value::Object(r.fields.clone()))
}

#[tokio::test]
async fn s3_single_upload_and_storage_checks() {
    let site = site(StorageMode::S3).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());

    let (s, info) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/1/_upload?filename=notes%20v1.txt"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    let data = &info["data"];
    assert_eq!(data["upload_type"], "Attachment");
    assert_eq!(data["storage_service"], "s3");
    assert_eq!(data["original_filename"], "notes v1.txt");
    assert_eq!(data["multipart_upload"], false);
    assert!(data["upload_id"].is_string());
    assert!(data["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        info["links"]["complete_upload"],
        "/api/v1/entity/shots/1/_upload"
    );
    assert!(info["links"].get("get_next_part").is_none());
    let upload = info["links"]["upload"].as_str().unwrap().to_string();
    assert!(upload.starts_with(&format!("{url}/_storage/")), "{upload}");
    assert!(upload.contains("X-Amz-Signature="));

    let bytes = b"hello attachment".to_vec();
    // The bearer token must never go to storage.
    let res = c
        .put(&upload)
        .bearer_auth(&t)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("<Code>InvalidArgument</Code>"));
    // Tampered signature and tampered expiry.
    let bad_sig = {
        let (head, sig) = upload.rsplit_once("X-Amz-Signature=").unwrap();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        format!("{head}X-Amz-Signature={flipped}{}", &sig[1..])
    };
    let res = c.put(&bad_sig).body(bytes.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("SignatureDoesNotMatch"));
    let longer = upload.replace("X-Amz-Expires=3600", "X-Amz-Expires=999999");
    assert_ne!(longer, upload);
    let res = c.put(&longer).body(bytes.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let unsigned = upload.split_once('?').unwrap().0;
    assert_eq!(
        c.put(unsigned)
            .body(bytes.clone())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // Completing before the bytes arrived fails.
    let body = json!({"upload_info": data, "upload_data": {"display_name": "Notes"}});
    let (s, e) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/1/_upload"),
        &body,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["errors"][0]["code"], 103);

    let res = c
        .put(&upload)
        .header("content-type", "text/plain")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(
        etag,
        "\"2a6e7e2ccaca2bb4f5c7bce1e3bcc4b1\"".replace(
            "2a6e7e2ccaca2bb4f5c7bce1e3bcc4b1",
            &format!("{:x}", md5::Md5::digest(&bytes))
        )
    );

    // Completing against another record is refused.
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/2/_upload"),
        &body,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/1/_upload"),
        &body,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // Single use.
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/1/_upload"),
        &body,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (att, fields) = last_attachment(&site);
    assert_eq!(
        fields["attachment_links"],
        json!([{"type": "Shot", "id": 1}])
    );
    assert_eq!(fields["this_file"]["name"], "Notes");
    assert_eq!(fields["this_file"]["content_type"], "text/plain");
    assert_eq!(fields["this_file"]["link_type"], "upload");
    assert_eq!(fields["file_size"], bytes.len());
    assert_eq!(fields["project"], json!({"type": "Project", "id": 1}));
    let v = admin_sha(&c, &url, att).await;
    assert_eq!(v["sha256"], sha(&bytes));
    assert_eq!(
        site.backend()
            .files()
            .attachment_blob(att)
            .unwrap()
            .content
            .to_vec(),
        bytes
    );

    // file_serve redirects to storage (token needed there, not at storage).
    let res = c
        .get(format!("{url}/file_serve/attachment/{att}"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        c.get(&loc).send().await.unwrap().bytes().await.unwrap(),
        &bytes[..]
    );

    // Expired URLs.
    site.backend()
        .files()
        .set_url_lifetime(std::time::Duration::ZERO);
    let (_, info) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/1/_upload?filename=a.bin"),
            None,
        )
        .await;
    let res = c
        .put(info["links"]["upload"].as_str().unwrap())
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("Request has expired"));

    // Bad requests.
    for (path, status) in [
        ("/api/v1/entity/shots/1/_upload", StatusCode::BAD_REQUEST),
        (
            "/api/v1/entity/shots/999/_upload?filename=a",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/entity/nope/1/_upload?filename=a",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/entity/shots/x/_upload?filename=a",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/entity/shots/1/code/_upload?filename=a",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/entity/shots/1/no_field/_upload?filename=a",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/entity/shots/1/_upload?filename=a&multipart_upload=maybe",
            StatusCode::BAD_REQUEST,
        ),
        // A real site answers 404 to a multipart upload without a field.
        (
            "/api/v1/entity/shots/1/_upload?filename=a&multipart_upload=true",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, b) = site.call("GET", &format!("{url}{path}"), None).await;
        assert_eq!(s, status, "{path}: {b}");
        assert!(b["errors"][0]["code"].is_number(), "{path}: {b}");
    }
    let res = c
        .get(format!("{url}/api/v1/entity/shots/1/_upload?filename=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/1/_upload"),
        &json!({"upload_data": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let res = c
        .post(format!("{url}/api/v1/entity/shots/1/_upload"))
        .bearer_auth(&t)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    site.shutdown().await;
}

#[tokio::test]
async fn s3_multipart_field_upload_and_downloads() {
    let site = site(StorageMode::S3).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());
    let (s, info) = site
        .call(
            "GET",
            &format!(
            "{url}/api/v1/entity/shots/1/sg_movie/_upload?filename=movie.mov&multipart_upload=true"
        ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["data"]["multipart_upload"], true);
    let part1_url = info["links"]["upload"].as_str().unwrap().to_string();
    assert!(part1_url.contains("partNumber=1"));
    let next = info["links"]["get_next_part"].as_str().unwrap().to_string();
    assert!(next.starts_with("/api/v1/entity/shots/1/sg_movie/_upload/multipart?"));
    assert!(next.contains("part_number=2"));

    let part1: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    let part2 = b"tail bytes".to_vec();
    // A too-small first part.
    let small = c.put(&part1_url).body(vec![1u8; 100]).send().await.unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    let (s, n) = site.call("GET", &format!("{url}{next}"), None).await;
    assert_eq!(s, StatusCode::OK, "{n}");
    assert!(n["links"]["get_next_part"]
        .as_str()
        .unwrap()
        .contains("part_number=3"));
    let part2_url = n["links"]["upload"].as_str().unwrap().to_string();
    assert!(part2_url.contains("partNumber=2"));
    let e2 = c.put(&part2_url).body(part2.clone()).send().await.unwrap();
    let e2 = e2.headers()["etag"].to_str().unwrap().to_string();
    let e_small = small.headers()["etag"].to_str().unwrap().to_string();
    let complete = format!("{url}/api/v1/entity/shots/1/sg_movie/_upload");
    let mut upload_info = info["data"].clone();
    upload_info["etags"] = json!([e_small, e2]);
    let (s, e) = post_json(
        &site,
        &complete,
        &json!({"upload_info": upload_info, "upload_data": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("minimum part size"),
        "{e}"
    );

    let e1 = c.put(&part1_url).body(part1.clone()).send().await.unwrap();
    let e1 = e1.headers()["etag"].to_str().unwrap().to_string();
    assert!(e1.starts_with('"') && e1.ends_with('"'));
    for etags in [
        json!([e2, e1]),
        json!([e1]),
        json!([e1, "\"0\""]),
        json!("x"),
    ] {
        upload_info["etags"] = etags.clone();
        let (s, e) = post_json(&site, &complete, &json!({"upload_info": upload_info})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{etags}: {e}");
    }
    upload_info.as_object_mut().unwrap().remove("etags");
    let (s, _) = post_json(&site, &complete, &json!({"upload_info": upload_info})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    upload_info["etags"] = json!([e1, e2]);
    let (s, e) = post_json(
        &site,
        &complete,
        &json!({"upload_info": upload_info, "upload_data": {"display_name": "Cut v2"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let all: Vec<u8> = [part1.clone(), part2.clone()].concat();
    let (att, _) = last_attachment(&site);
    assert_eq!(admin_sha(&c, &url, att).await["sha256"], sha(&all));

    // Field metadata with a fresh storage URL.
    let (s, meta) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/1/sg_movie"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{meta}");
    assert_eq!(meta["data"]["name"], "Cut v2");
    assert_eq!(meta["data"]["link_type"], "upload");
    assert_eq!(meta["data"]["type"], "Attachment");
    assert_eq!(meta["data"]["id"], att);
    assert_eq!(meta["links"]["self"], "/api/v1/entity/shots/1/sg_movie");
    assert!(meta["data"]["url"]
        .as_str()
        .unwrap()
        .contains("/_storage/blobs/"));

    let res = c
        .get(format!("{url}/api/v1/entity/shots/1/sg_movie?alt=original"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    let res = c.get(&loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.bytes().await.unwrap(), &all[..]);
    let len = all.len();
    for (range, status, content_range, body) in [
        (
            "bytes=0-9",
            206,
            Some(format!("bytes 0-9/{len}")),
            Some(all[0..10].to_vec()),
        ),
        (
            "bytes=1030-",
            206,
            Some(format!("bytes 1030-{}/{len}", len - 1)),
            Some(all[1030..].to_vec()),
        ),
        (
            "bytes=-4",
            206,
            Some(format!("bytes {}-{}/{len}", len - 4, len - 1)),
            Some(all[len - 4..].to_vec()),
        ),
        (
            "bytes=5-99999",
            206,
            Some(format!("bytes 5-{}/{len}", len - 1)),
            Some(all[5..].to_vec()),
        ),
        ("bytes=99999-", 416, Some(format!("bytes */{len}")), None),
        ("bytes=-0", 416, Some(format!("bytes */{len}")), None),
        ("bytes=9-2", 200, None, Some(all.clone())),
        ("lines=1-2", 200, None, Some(all.clone())),
    ] {
        let res = c.get(&loc).header("range", range).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{range}");
        assert_eq!(
            res.headers()
                .get("content-range")
                .map(|v| v.to_str().unwrap().to_string()),
            content_range,
            "{range}"
        );
        if let Some(body) = body {
            assert_eq!(res.bytes().await.unwrap(), &body[..], "{range}");
        }
    }
    // Other download errors.
    let (s, _) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/1/sg_movie?alt=huge"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/2/sg_movie?alt=original"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = site
        .call("GET", &format!("{url}/api/v1/entity/shots/1/code"), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/999/sg_movie"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let res = c
        .get(format!("{url}/api/v1/entity/shots/1/sg_movie"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    site.shutdown().await;
}

#[tokio::test]
async fn multipart_abort_then_complete_fails() {
    let site = site(StorageMode::S3).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());
    let (_, info) = site
        .call(
            "GET",
            &format!(
            "{url}/api/v1/entity/shots/3/attachments/_upload?filename=a.bin&multipart_upload=true"
        ),
            None,
        )
        .await;
    let part_url = info["links"]["upload"].as_str().unwrap().to_string();
    let etag = c.put(&part_url).body("abc").send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let complete = format!(
        "{url}{}",
        info["links"]["complete_upload"].as_str().unwrap()
    );
    // Abort with the bare upload info.
    let res = c
        .post(format!("{complete}/multipart_abort"))
        .bearer_auth(&t)
        .json(&info["data"])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mut upload_info = info["data"].clone();
    upload_info["etags"] = json!([etag]);
    let (s, e) = post_json(&site, &complete, &json!({"upload_info": upload_info})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["errors"][0]["source"]["upload_info"]["upload_id"].is_array());
    // Parts can no longer be sent, and a second abort fails.
    let res = c.put(&part_url).body("abc").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("NoSuchUpload"));
    let res = c
        .post(format!("{complete}/multipart_abort"))
        .bearer_auth(&t)
        .json(&info["data"])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A successful multipart upload to a multi-entity field appends an Attachment link.
    let (_, info) = site
        .call(
            "GET",
            &format!(
            "{url}/api/v1/entity/shots/3/attachments/_upload?filename=b.bin&multipart_upload=true"
        ),
            None,
        )
        .await;
    let etag = c
        .put(info["links"]["upload"].as_str().unwrap())
        .body("only part")
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let mut upload_info = info["data"].clone();
    upload_info["etags"] = json!([etag]);
    let (s, _) = post_json(
        &site,
        &complete,
        &json!({"upload_info": upload_info, "upload_data": {"tags": [{"type": "Tag", "id": 1}]}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (att, fields) = last_attachment(&site);
    assert_eq!(fields["tags"], json!([{"type": "Tag", "id": 1}]));
    let shot = site
        .backend()
        .store()
        .get("Shot", 3, Default::default())
        .unwrap()
        .fields
        .clone();
    assert_eq!(
        shot["attachments"],
        json!([{"type": "Attachment", "id": att}])
    );
    site.shutdown().await;
}

#[tokio::test]
async fn thumbnail_upload_and_download() {
    let site = site(StorageMode::S3).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());
    let (_, info) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/2/image/_upload?filename=t.png"),
            None,
        )
        .await;
    assert_eq!(info["data"]["upload_type"], "Thumbnail");
    let png = b"\x89PNG fake image".to_vec();
    let res = c
        .put(info["links"]["upload"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/2/image/_upload"),
        &json!({"upload_info": info["data"], "upload_data": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, meta) = site
        .call("GET", &format!("{url}/api/v1/entity/shots/2/image"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(meta["data"].as_str().unwrap().contains("/_storage/blobs/"));
    for alt in ["thumbnail", "original"] {
        let res = c
            .get(format!("{url}/api/v1/entity/shots/2/image?alt={alt}"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        let res = c
            .get(res.headers()["location"].to_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.bytes().await.unwrap(), &png[..]);
    }
    // The stored image field is a working URL too.
    let stored = site
        .backend()
        .store()
        .get("Shot", 2, Default::default())
        .unwrap()
        .fields["image"]
        .clone();
    let res = c.get(stored.as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap(), &png[..]);
    let (s, _) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/3/image?alt=thumbnail"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    site.shutdown().await;
}

#[tokio::test]
async fn sg_storage_upload() {
    let site = site(StorageMode::Sg).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());
    let (s, info) = site
        .call(
            "GET",
            &format!("{url}/api/v1/entity/shots/1/sg_movie/_upload?filename=m.mov"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["data"]["storage_service"], "sg");
    assert!(info["data"]["upload_id"].is_null());
    let upload = info["links"]["upload"].as_str().unwrap().to_string();
    assert!(
        upload.starts_with(&format!(
            "{url}/api/v1/entity/shots/1/sg_movie/_upload?filename=m.mov&signature="
        )),
        "{upload}"
    );
    for k in ["user_id=", "user_type=", "expiration="] {
        assert!(upload.contains(k));
    }
    let (s, e) = site
        .call(
            "GET",
            &format!(
                "{url}/api/v1/entity/shots/1/sg_movie/_upload?filename=m.mov&multipart_upload=true"
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["errors"][0]["source"]["multipart_upload"].is_array());

    // 20 KB: above the API body limit (4 KB), below the upload limit.
    let bytes: Vec<u8> = (0..20_000u32).map(|i| (i % 13) as u8).collect();
    let res = c.put(&upload).body(bytes.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let tampered = upload.replace("filename=m.mov", "filename=n.mov");
    let res = c
        .put(&tampered)
        .bearer_auth(&t)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = c
        .put(&upload)
        .bearer_auth(&t)
        .body(vec![0u8; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = c
        .put(&upload)
        .bearer_auth(&t)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let put: Value = res.json().await.unwrap();
    assert!(put["data"]["upload_id"].is_string());
    assert_eq!(put["data"]["original_filename"], "m.mov");
    assert_eq!(
        put["links"]["complete_upload"],
        "/api/v1/entity/shots/1/sg_movie/_upload"
    );
    let mut upload_info = info["data"].clone();
    upload_info["upload_id"] = put["data"]["upload_id"].clone();
    let (s, _) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/1/sg_movie/_upload"),
        &json!({"upload_info": upload_info, "upload_data": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (att, fields) = last_attachment(&site);
    assert_eq!(
        fields["this_file"]["content_type"],
        "application/octet-stream"
    );
    assert_eq!(admin_sha(&c, &url, att).await["sha256"], sha(&bytes));
    // The rest of the API keeps its small body limit.
    let res = c
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 8192])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    site.shutdown().await;
}

/// The `get_next_part` link with its `part_number` set to `n` (what a client that asks
/// for part URLs concurrently does; the official Python API asks for any part too).
fn part_link(template: &str, n: &str) -> String {
    let (path, query) = template.split_once('?').unwrap();
    let pairs: Vec<String> = query
        .split('&')
        .map(|p| {
            if p.starts_with("part_number=") {
                format!("part_number={n}")
            } else {
                p.to_string()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

#[tokio::test]
async fn multipart_part_urls_in_any_order_and_parts_put_out_of_order() {
    let site = site(StorageMode::S3).await;
    let (url, c, t) = (site.url.clone(), site.client.clone(), site.token.clone());
    let (s, info) = site
        .call(
            "GET",
            &format!(
            "{url}/api/v1/entity/shots/2/sg_movie/_upload?filename=cut.mov&multipart_upload=true"
        ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    let template = info["links"]["get_next_part"].as_str().unwrap().to_string();
    assert_eq!(template.matches("part_number=").count(), 1, "{template}");

    // URLs for parts 4, 2 and 3, asked in that order (and part 3 twice).
    let mut urls = std::collections::BTreeMap::new();
    urls.insert(1, info["links"]["upload"].as_str().unwrap().to_string());
    for n in [4, 2, 3, 3] {
        let (s, body) = site
            .call(
                "GET",
                &format!("{url}{}", part_link(&template, &n.to_string())),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "part {n}: {body}");
        let upload = body["links"]["upload"].as_str().unwrap().to_string();
        assert!(
            upload.contains(&format!("partNumber={n}&")),
            "part {n}: {upload}"
        );
        let next = body["links"]["get_next_part"].as_str().unwrap();
        assert!(
            next.contains(&format!("part_number={}", n + 1)),
            "part {n}: {next}"
        );
        assert_eq!(body["data"]["upload_id"], info["data"]["upload_id"]);
        urls.insert(n, upload);
    }
    // Part numbers S3 would refuse, and another upload's id.
    for bad in ["0", "10001", "x", ""] {
        let (s, body) = site
            .call("GET", &format!("{url}{}", part_link(&template, bad)), None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "part_number={bad}: {body}");
    }
    let other = part_link(&template, "2").replace(
        info["data"]["upload_id"].as_str().unwrap(),
        "00000000-0000-0000-0000-000000000000",
    );
    let (s, _) = site.call("GET", &format!("{url}{other}"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Four parts (the last short) PUT as 3, 1, 4, 2, with part 2 sent first wrong and
    // then right, after the parts behind it were in.
    let parts: Vec<Vec<u8>> = (0..4u32)
        .map(|p| {
            let len = if p == 3 { 17 } else { 1024 };
            (0..len).map(|i| (i * 7 + p * 31) as u8).collect()
        })
        .collect();
    let mut etags = std::collections::BTreeMap::new();
    for (n, bytes) in [
        (2, vec![9u8; 1024]),
        (3, parts[2].clone()),
        (1, parts[0].clone()),
        (4, parts[3].clone()),
        (2, parts[1].clone()),
    ] {
        let res = c.put(&urls[&n]).body(bytes).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "part {n}");
        etags.insert(n, res.headers()["etag"].to_str().unwrap().to_string());
    }
    let mut upload_info = info["data"].clone();
    upload_info["etags"] = json!(etags.values().collect::<Vec<_>>());
    let (s, e) = post_json(
        &site,
        &format!("{url}/api/v1/entity/shots/2/sg_movie/_upload"),
        &json!({"upload_info": upload_info}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let all = parts.concat();
    let (att, _) = last_attachment(&site);
    let stored = admin_sha(&c, &url, att).await;
    assert_eq!(stored["sha256"], sha(&all));
    assert_eq!(stored["size"], all.len());

    // The stored file, whole and in ranges across the parts' boundaries.
    let res = c
        .get(format!("{url}/api/v1/entity/shots/2/sg_movie?alt=original"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    let res = c.get(&loc).send().await.unwrap();
    assert_eq!(
        res.headers()["content-length"],
        all.len().to_string().as_str()
    );
    assert_eq!(res.bytes().await.unwrap(), &all[..]);
    for (a, b) in [
        (1000, 2100),
        (0, 3071),
        (1024, 1024),
        (3070, 3088),
        (2048, 3071),
    ] {
        let res = c
            .get(&loc)
            .header("range", format!("bytes={a}-{b}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{a}-{b}");
        let end = (b + 1).min(all.len());
        assert_eq!(
            res.headers()["content-length"],
            (end - a).to_string().as_str()
        );
        assert_eq!(res.bytes().await.unwrap(), &all[a..end], "{a}-{b}");
    }
    let head = c.head(&loc).send().await.unwrap();
    assert_eq!(
        head.headers()["content-length"],
        all.len().to_string().as_str()
    );
    site.shutdown().await;
}
