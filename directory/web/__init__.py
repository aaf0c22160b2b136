"""Public pages for readers: home, search, service page, about, robots.txt, sitemap.xml."""
