import { describe, expect, it } from "vitest";
import { SECRET_NAME, secretNameProblem, suggestSecretName } from "./secrets";

describe("secret names", () => {
  it("accepts what the API accepts", () => {
    for (const ok of ["A", "_", "API_TOKEN", "_X1", "A".repeat(64), "S3_KEY"]) {
      expect(SECRET_NAME.test(ok), ok).toBe(true);
      expect(secretNameProblem(ok)).toBeNull();
    }
  });

  it("says what is wrong with the rest", () => {
    expect(secretNameProblem("")).toMatch(/name/);
    expect(secretNameProblem("api_token")).toBe("Use capital letters only.");
    expect(secretNameProblem("1TOKEN")).toMatch(/digit/);
    expect(secretNameProblem("A".repeat(65))).toMatch(/64/);
    expect(secretNameProblem("API-TOKEN")).toMatch(/only capital letters/);
    expect(secretNameProblem("API TOKEN")).not.toBeNull();
    expect(secretNameProblem("ÄPI")).not.toBeNull();
  });

  it("suggests the closest valid name", () => {
    expect(suggestSecretName("api-token")).toBe("API_TOKEN");
    expect(suggestSecretName("1password")).toBe("_1PASSWORD");
    expect(suggestSecretName("stripe key")).toBe("STRIPE_KEY");
    expect(suggestSecretName("API_TOKEN")).toBeNull();
    expect(suggestSecretName("")).toBeNull();
  });
});
