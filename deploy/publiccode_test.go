package deploy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// TestPubliccode checks publiccode.yml against the standard's required
// fields (version 0.4, https://yml.publiccode.tools/schema.core.html) and
// against the repository: the licence of LICENSE, the module's URL.
func TestPubliccode(t *testing.T) {
	data, err := os.ReadFile("../publiccode.yml")
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		Version     string   `yaml:"publiccodeYmlVersion"`
		Name        string   `yaml:"name"`
		URL         string   `yaml:"url"`
		ReleaseDate string   `yaml:"releaseDate"`
		Platforms   []string `yaml:"platforms"`
		Categories  []string `yaml:"categories"`
		Status      string   `yaml:"developmentStatus"`
		Type        string   `yaml:"softwareType"`
		Description map[string]struct {
			Short    string   `yaml:"shortDescription"`
			Long     string   `yaml:"longDescription"`
			Features []string `yaml:"features"`
		} `yaml:"description"`
		Legal struct {
			License string `yaml:"license"`
		} `yaml:"legal"`
		Maintenance struct {
			Type     string `yaml:"type"`
			Contacts []struct {
				Name string `yaml:"name"`
			} `yaml:"contacts"`
		} `yaml:"maintenance"`
		Localisation struct {
			Ready     *bool    `yaml:"localisationReady"`
			Languages []string `yaml:"availableLanguages"`
		} `yaml:"localisation"`
	}
	if err := yaml.Unmarshal(data, &pc); err != nil {
		t.Fatal(err)
	}
	if pc.Version != "0.4" || pc.Name == "" || len(pc.Platforms) == 0 || len(pc.Categories) == 0 ||
		pc.Status == "" || pc.Type == "" || pc.Localisation.Ready == nil || len(pc.Localisation.Languages) == 0 {
		t.Errorf("a required field is missing: %+v", pc)
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(pc.ReleaseDate) {
		t.Errorf("releaseDate %q: want YYYY-MM-DD", pc.ReleaseDate)
	}
	gomod, _ := os.ReadFile("../go.mod")
	module := strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module ")
	if pc.URL != "https://"+module {
		t.Errorf("url %s, the module is %s", pc.URL, module)
	}
	licence, _ := os.ReadFile("../LICENSE")
	if !strings.Contains(string(licence), "SPDX-License-Identifier: "+pc.Legal.License+"\n") {
		t.Errorf("legal.license %s is not the licence in LICENSE", pc.Legal.License)
	}
	if pc.Maintenance.Type != "community" && pc.Maintenance.Type != "internal" && pc.Maintenance.Type != "contract" && pc.Maintenance.Type != "none" {
		t.Errorf("maintenance.type %q", pc.Maintenance.Type)
	}
	if (pc.Maintenance.Type == "community" || pc.Maintenance.Type == "internal") && len(pc.Maintenance.Contacts) == 0 {
		t.Error("maintenance.contacts are required for community maintenance")
	}
	for _, lang := range []string{"nl", "en"} {
		d, ok := pc.Description[lang]
		short, long := utf8.RuneCountInString(d.Short), utf8.RuneCountInString(strings.TrimSpace(d.Long))
		if !ok || short == 0 || short > 150 || long < 150 || long > 10000 || len(d.Features) == 0 {
			t.Errorf("description.%s: shortDescription %d characters (1-150), longDescription %d (150-10000), %d features", lang, short, long, len(d.Features))
		}
	}
}
