#include "routes/access_tokens.h"

#include <utility>

#include "jwt/claims.h"
#include "jwt/jws.h"

namespace sessiond::routes {

AccessTokens::AccessTokens(std::shared_ptr<jwt::KeySet> keys, const Clock& clock, Random& random,
                           AccessTokenOptions options)
    : keys_(std::move(keys)), clock_(clock), random_(random), options_(std::move(options)) {}

std::shared_ptr<jwt::KeySet> AccessTokens::Keys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

void AccessTokens::Replace(std::shared_ptr<jwt::KeySet> keys) {
  std::lock_guard lock(mu_);
  keys_ = std::move(keys);
  cache_.clear();  // Tokens from the old key stay valid, but new ones use the new key.
}

Result<AccessToken> AccessTokens::Issue(const session::ActiveSession& active) {
  const store::User& user = active.user;
  boost::json::object extra;
  for (const std::string& field : options_.fields) {
    if (field == "name") {
      extra["name"] = user.name;
    } else if (field == "image") {
      extra["image"] = user.image ? boost::json::value(*user.image) : boost::json::value(nullptr);
    } else if (field == "emailVerified") {
      extra["emailVerified"] = user.email_verified;
    }
  }
  const TimePoint now = clock_.Now();
  const boost::json::object claims = jwt::AccessTokenClaims({.issuer = options_.issuer,
                                                             .audience = options_.audience,
                                                             .user_id = user.id,
                                                             .session_id = active.session.id,
                                                             .email = user.email,
                                                             .role = options_.role,
                                                             .extra = std::move(extra),
                                                             .issued_at = now,
                                                             .lifetime = options_.lifetime,
                                                             .jti = jwt::NewJwtId(random_)});
  auto signed_token = Keys()->Sign(claims);
  if (!signed_token) return std::unexpected(signed_token.error());
  return AccessToken{std::move(*signed_token), claims.at("exp").to_number<std::int64_t>(),
                     user.updated_at};
}

Result<AccessToken> AccessTokens::IssueCached(const session::ActiveSession& active) {
  const std::int64_t now_s = ToUnixMillis(clock_.Now()) / 1000;
  const std::int64_t fresh_enough = options_.lifetime.count() / 4;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(active.session.id);
        it != cache_.end() && it->second.expires_at - now_s > fresh_enough &&
        it->second.user_updated_at == active.user.updated_at) {
      return it->second;
    }
  }
  auto issued = Issue(active);
  if (!issued) return issued;
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();  // Crude bound; refilled on demand.
  cache_[active.session.id] = *issued;
  return issued;
}

Result<VerifiedAccessToken> AccessTokens::Verify(std::string_view jwt) const {
  // Every algorithm may be named, but each key verifies only with the one it is bound to, so
  // this allowlist admits no confusion (RFC 8725 §3.1).
  const jwt::VerifyOptions options{
      .allowed = {jwt::kAllAlgorithms.begin(), jwt::kAllAlgorithms.end()},
      .issuer = options_.issuer,
      .audience = options_.audience};
  auto claims = jwt::Verify(jwt, *Keys(), options, clock_.Now());
  if (!claims) return std::unexpected(jwt::ToError(claims.error()));
  auto text = [&](std::string_view name) -> std::string {
    const boost::json::value* v = claims->if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  VerifiedAccessToken verified{text("sub"), text("sid"), text("email")};
  if (verified.user_id.empty() || verified.session_id.empty()) {
    return Fail(ErrorCode::kUnauthorized, "jwt: sub or sid missing");
  }
  return verified;
}

boost::json::object AccessTokens::Jwks() {
  const std::shared_ptr<jwt::KeySet> keys = Keys();
  keys->Prune(clock_.Now());
  return keys->Jwks();
}

}  // namespace sessiond::routes
